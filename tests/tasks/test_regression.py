"""The regression task: ratings predicted for raw user and item ids."""

import jax
import numpy as np
import pytest

from jaxdl.models import cf
from jaxdl.tasks import regression


def test_predict_ratings_rejects_or_falls_back_on_unknown_ids():
    model = cf.make_dot(2, 3)
    params = model.init(jax.random.key(0))
    users, items = {10: 0, 20: 1}, {5: 0, 6: 1, 7: 2}
    known = regression.predict_ratings(model, params, users, items, [10, 20], [7, 5])
    assert known.shape == (2,) and np.all((known > 0) & (known < 5.5))
    with pytest.raises(ValueError, match="user id 99"):
        regression.predict_ratings(model, params, users, items, [10, 99], [7, 5])
    out = regression.predict_ratings(model, params, users, items, [10, 99], [7, 5], unknown="mean",
                                     fallback=3.5)
    np.testing.assert_allclose(out, [known[0], 3.5], rtol=1e-6)
