"""Product recommendations that know what is in stock."""
