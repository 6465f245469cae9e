import json
from pathlib import Path

from models.cerfa import parse_request_file, request_json_schema

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_schema_is_the_one_generated_from_the_model():
    shipped = json.loads((ROOT / "examples" / "ptai-request.schema.json").read_text(encoding="utf-8"))
    assert shipped == request_json_schema()


def test_the_shipped_example_parses():
    parsed = parse_request_file((ROOT / "examples" / "ptai-request.json").read_text(encoding="utf-8"))
    assert parsed.campagne == 2021 and parsed.budget.action_p104 == 12


def test_the_schema_documents_that_amounts_are_not_negative():
    schema = request_json_schema()
    money = schema["$defs"]["Budget"]["properties"]["montant_demande_eur"]
    assert {"type": "number", "minimum": 0} in money["anyOf"]
