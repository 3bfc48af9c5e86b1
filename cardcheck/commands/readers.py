"""`cardcheck readers`: placeholder until its issue lands."""
