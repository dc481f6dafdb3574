"""Which packages the wheel holds: the code, and configs/ as the data package
`mana_planner_configs` (price table, demo steps, example missions and personas), found at run
time through importlib.resources. pyproject.toml holds everything else."""

from setuptools import find_namespace_packages, find_packages, setup

CODE = ["planner*", "reminders*", "missions*", "toolkits*", "gateway*", "personas*", "console*"]
CODE += ["mana_planner", "mana_planner.*"]
DATA = "mana_planner_configs"
DATA_FILES = ["*.toml", "*.json", "*.md"]
data_packages = [DATA, *(f"{DATA}.{name}" for name in find_namespace_packages(where="configs"))]

setup(
    packages=[*find_packages(include=CODE), *data_packages],
    package_dir={DATA: "configs"},
    package_data={"console": ["static/*"], **{package: DATA_FILES for package in data_packages}},
)
