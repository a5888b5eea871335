"""The session engine: schedules, crash-safe storage, session logic, simulation (no PsychoPy)."""
