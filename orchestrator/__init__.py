"""orchestrator: a small declarative container orchestrator that speaks the Kubernetes API."""
