"""Your scheduler: personal FSRS parameters, the workload planner, Easy Days and load balancing."""

from .views import bp

__all__ = ["bp"]
