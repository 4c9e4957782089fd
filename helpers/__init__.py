"""helpers: the shared package behind the AI Campaign Optimization Workbook notebooks."""

__version__ = "0.1.0"
__all__ = ["open_plan", "__version__"]


def __getattr__(name):
    # Lazy, so `import helpers.samples` or the CLI do not pay for pandas and the plan machinery.
    if name == "open_plan":
        from helpers.plan import open_plan

        return open_plan
    raise AttributeError(f"module 'helpers' has no attribute {name!r}")
