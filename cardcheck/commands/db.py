"""`cardcheck db`: placeholder until its issue lands."""
