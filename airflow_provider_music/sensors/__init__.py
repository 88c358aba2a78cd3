"""sensors for the AI/ML API music provider."""
