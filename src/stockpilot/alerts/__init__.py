"""Alerts: rules over positions, plans and forecasts; notifiers with retry and dead letters."""
