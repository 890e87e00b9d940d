"""A realistic synthetic police force (records-management-system export), clearly labelled synthetic.

>>> from peelian.data.synthetic import generate_force, write_export
>>> force = generate_force(seed=1, month_from="2021-01", month_to="2021-01", scale=0.05)
>>> force.meta["synthetic"], force.occurrences["crime_ref"].str.startswith("SYN-").all()
(True, np.True_)

The generative model is documented in ``docs/guide/synthetic.md``.
"""

from peelian.data.synthetic._calendar import add_working_days, bank_holidays, working_days_between
from peelian.data.synthetic._calibration import Calibration, load_calibration
from peelian.data.synthetic._generate import SyntheticForce, generate_force
from peelian.data.synthetic._writer import EXPORT_FILES, README_NAME, write_export

__all__ = [
    "EXPORT_FILES",
    "README_NAME",
    "Calibration",
    "SyntheticForce",
    "add_working_days",
    "bank_holidays",
    "generate_force",
    "load_calibration",
    "working_days_between",
    "write_export",
]
