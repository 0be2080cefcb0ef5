"""expect: load-error -- loops forever while being imported."""
while True:
    pass
