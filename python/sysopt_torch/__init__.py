"""Memory plans of `sysopt remat` for PyTorch: trace a training step into a graph, execute a
schedule on it, and train with a plan. See docs/remat.md ("PyTorch")."""
from .run import (LiveTensorMeter, ScheduleError, ScheduleRunner, eager_step_peak,
                  keep_everything_schedule, schedule_from_order)
from .trace import TracedStep, extract, trace_step
from .train import PlanError, RematTrainer, plan_graph, simulate

__all__ = ["LiveTensorMeter", "ScheduleError", "ScheduleRunner", "eager_step_peak",
           "keep_everything_schedule", "schedule_from_order", "TracedStep", "extract",
           "trace_step", "PlanError", "RematTrainer", "plan_graph", "simulate"]
