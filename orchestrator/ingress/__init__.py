"""The ingress controller: networking.k8s.io/v1 Ingresses served by a real nginx (render.py, controller.py)."""
