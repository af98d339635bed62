"""Importers of other trackers' data into a trackreport store (MLflow today)."""
