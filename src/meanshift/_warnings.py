"""Warning classes of the library (the test suite turns them into errors)."""

__all__ = ["MeanShiftWarning"]


class MeanShiftWarning(UserWarning):
    """Something in the fit deserves the user's attention (for example bin seeding that
    fell back to all points)."""
