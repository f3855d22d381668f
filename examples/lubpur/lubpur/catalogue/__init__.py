"""The lubricant catalogue: generated products, search, and data sheets."""
