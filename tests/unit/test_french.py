"""Written French: plurals spelled out, French spacing, « de » before a département."""

from models.french import NBSP, NNBSP, accorde, de, en_cours_de_phrase, initiale, pluriel, typographie


def test_plurals_are_written_out_and_zero_and_one_are_singular():
    assert pluriel(0, "demande") == "0 demande"
    assert pluriel(1, "jour ouvré") == "1 jour ouvré"
    assert pluriel(12, "jour ouvré") == "12 jours ouvrés"
    assert pluriel(3, "étape bloquée") == "3 étapes bloquées"
    assert pluriel(1500, "action") == f"1{NNBSP}500 actions"
    assert accorde(2, "n'est plus relancée", "ne sont plus relancées") == "ne sont plus relancées"


def test_french_spacing_goes_before_double_punctuation_and_inside_guillemets():
    assert typographie("Objet : test ; fin ! Vraiment ?") == f"Objet{NNBSP}: test{NNBSP}; fin{NNBSP}! Vraiment{NNBSP}?"
    assert typographie("« Robes de papier »") == f"«{NNBSP}Robes de papier{NNBSP}»"
    assert typographie("Cerfa n°12156 et n° 15059") == f"Cerfa n°{NBSP}12156 et n°{NBSP}15059"


def test_french_spacing_leaves_addresses_times_and_line_starts_alone():
    for text in ("http://127.0.0.1:4200/runs", "18:00", ": en tête de ligne", "a\n: b"):
        assert typographie(text) == text


def test_de_contracts_with_the_article_of_the_name():
    assert [de(n) for n in ("le Rhône", "les Bouches-du-Rhône", "la Vienne", "l'Isère", "Paris")] == [
        "du Rhône",
        "des Bouches-du-Rhône",
        "de la Vienne",
        "de l'Isère",
        "de Paris",
    ]


def test_a_sentence_after_a_colon_starts_in_lower_case_unless_an_acronym():
    assert en_cours_de_phrase("Adresser au préfet la lettre") == "adresser au préfet la lettre"
    assert en_cours_de_phrase("CTAI signé") == "CTAI signé"
    assert initiale("compte rendu (Cerfa n° 15059)") == "Compte rendu (Cerfa n° 15059)"
