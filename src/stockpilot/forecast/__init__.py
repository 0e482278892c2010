"""Demand forecasting: quantile forecasts per SKU-location, backtested, chosen per demand class."""
