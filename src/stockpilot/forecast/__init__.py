"""Demand forecasting: quantile forecasts per SKU-location, backtested and chosen per series."""
