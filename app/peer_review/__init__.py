"""Practice assignments, rubrics, submissions, allocation and reviews."""
