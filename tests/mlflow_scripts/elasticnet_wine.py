"""ElasticNet on the wine data: params, metrics, signature, a registered model."""

import sys

import mlflow
import mlflow.sklearn
import numpy as np
from mlflow.models import infer_signature
from sklearn.datasets import load_wine
from sklearn.linear_model import ElasticNet
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
from sklearn.model_selection import train_test_split

alpha = float(sys.argv[1]) if len(sys.argv) > 1 else 0.5
l1_ratio = float(sys.argv[2]) if len(sys.argv) > 2 else 0.5

wine = load_wine(as_frame=True)
data = wine.frame
train, test = train_test_split(data, random_state=42)
train_x, test_x = train.drop(["target"], axis=1), test.drop(["target"], axis=1)
train_y, test_y = train[["target"]], test[["target"]]

mlflow.set_experiment("wine-quality")
with mlflow.start_run(run_name=f"elasticnet-{alpha}-{l1_ratio}"):
    model = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, random_state=42)
    model.fit(train_x, train_y)
    predicted = model.predict(test_x)
    rmse = float(np.sqrt(mean_squared_error(test_y, predicted)))
    mae = float(mean_absolute_error(test_y, predicted))
    r2 = float(r2_score(test_y, predicted))
    print(f"ElasticNet(alpha={alpha}, l1_ratio={l1_ratio}): rmse={rmse:.4f} r2={r2:.4f}")
    mlflow.log_param("alpha", alpha)
    mlflow.log_param("l1_ratio", l1_ratio)
    mlflow.log_metric("rmse", rmse)
    mlflow.log_metric("r2", r2)
    mlflow.log_metric("mae", mae)
    signature = infer_signature(train_x, predicted)
    info = mlflow.sklearn.log_model(model, name="model", signature=signature,
                                    input_example=train_x.head(3),
                                    registered_model_name="wine-elasticnet")
    loaded = mlflow.pyfunc.load_model(info.model_uri)
    assert np.allclose(loaded.predict(test_x), predicted)
