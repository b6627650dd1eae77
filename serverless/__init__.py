"""RunPod serverless worker: see serverless/handler.py."""
