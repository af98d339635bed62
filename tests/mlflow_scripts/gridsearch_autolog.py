"""GridSearchCV with mlflow.sklearn.autolog: parent run, best-candidate child runs."""

import mlflow
import mlflow.sklearn
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

mlflow.set_experiment("iris-grid")
mlflow.sklearn.autolog(max_tuning_runs=3, log_models=True)
X, y = load_iris(return_X_y=True)
search = GridSearchCV(LogisticRegression(max_iter=1000),
                      {"C": [0.01, 0.1, 1.0, 10.0], "fit_intercept": [True, False]}, cv=3)
with mlflow.start_run(run_name="grid"):
    search.fit(X, y)
print("best", search.best_params_)
