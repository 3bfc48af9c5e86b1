"""`cardcheck watch`: placeholder until its issue lands."""
