"""`cardcheck check`: placeholder until its issue lands."""
