"""Source connectors. Each module declares its datasets and how to fetch them."""
