"""Read models built from Accord's event stream; every GET reads one of these, never an aggregate."""
