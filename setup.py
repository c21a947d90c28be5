"""Install kfkd: ``pip install -e .`` (dependencies: requirements.txt)."""
from setuptools import find_packages, setup

setup(
    name="kfkd",
    version="0.1.0",
    description=("Facial keypoint detection on the Kaggle challenge with "
                 "Lasagne/Theano: nets, training, random grid search, "
                 "occlusion sensitivity, submissions"),
    packages=find_packages(include=["kfkd", "kfkd.*"]),
    package_data={"kfkd": ["assets/*"]},
    python_requires=">=3.11,<3.12",
    install_requires=[
        "theano-pymc==1.1.2", "Lasagne==0.1", "numpy==1.23.5", "scipy",
        "pandas", "matplotlib", "tqdm", "optuna", "scikit-learn",
        "opencv-python-headless", "pillow",
    ],
    # a PostgreSQL study shared by workers on several machines:
    # pip install -e .[postgres], then --storage postgresql+psycopg://...
    # browsing a study in a web page: pip install -e .[dashboard], then
    # optuna-dashboard postgresql+psycopg://... (or the journal file)
    extras_require={"postgres": ["psycopg[binary]==3.3.9"],
                    "dashboard": ["optuna-dashboard==0.21.0"]},
    entry_points={"console_scripts": ["kfkd = kfkd.cli:main"]},
)
