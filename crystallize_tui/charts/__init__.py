"""Charts of a run's metrics: data model, chart builders, a braille canvas and SVG (plain: no rich, no textual)."""
