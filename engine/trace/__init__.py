"""Results of one community, explanations and gap analysis."""
