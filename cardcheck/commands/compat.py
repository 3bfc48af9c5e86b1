"""`cardcheck compat`: placeholder until its issue lands."""
