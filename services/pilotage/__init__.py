"""Comités de pilotage (seed 003, step 7): national (the Diair with the ministry) or local (the
préfecture), each a case of the step engine whose one step records its compte rendu."""
