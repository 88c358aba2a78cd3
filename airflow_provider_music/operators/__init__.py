"""operators for the AI/ML API music provider."""
