"""The pipeline as named steps, the scheduler and run history."""
