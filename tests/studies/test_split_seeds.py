"""`jaxdl.studies.split_seeds`: experiments x sentiment split seeds as one mean +- sd table."""

import json

import pytest

from jaxdl.studies import split_seeds as split_seed_table


def test_table_reports_mean_and_population_sd_in_percent_per_seed():
    out = split_seed_table.table({"a": [0.8, 0.9], "b:model.x=1": [0.75, 0.75]}, [0, 3])
    lines = out.splitlines()
    assert lines[0] == "| classifier | mean +- sd | seed 0 | seed 3 |"
    assert lines[2] == "| a | 85.0 +- 5.0 | 80.0 | 90.0 |"
    assert lines[3] == "| b:model.x=1 | 75.0 +- 0.0 | 75.0 | 75.0 |"
    with pytest.raises(ValueError, match="1 accuracies for 2 split seeds"):
        split_seed_table.table({"a": [0.8]}, [0, 1])


def test_experiment_items_carry_their_own_overrides():
    assert split_seed_table.parse_experiment("sentiment_lstm:model.read_len=400,data.batch_size=32") == (
        "sentiment_lstm", ["model.read_len=400", "data.batch_size=32"])
    assert split_seed_table.parse_experiment("sentiment_bow") == ("sentiment_bow", [])


def test_variants_of_one_experiment_get_their_own_folders():
    assert split_seed_table.folder_name("sentiment_bow") == "sentiment_bow"
    assert split_seed_table.folder_name("sentiment_nb_bow:optimizer.l2=1e-3,train.epochs=50") == (
        "sentiment_nb_bow+optimizer.l2=1e-3+train.epochs=50")
    assert (split_seed_table.folder_name("sentiment_nb_bow:optimizer.l2=1e-3")
            != split_seed_table.folder_name("sentiment_nb_bow:optimizer.l2=1e-4"))


@pytest.mark.slow
def test_each_split_seed_trains_on_its_own_dataset(tmp_path, data_dir):
    from jaxdl import data

    ok, why = data.availability("pang_lee_split1")
    if not ok:
        pytest.skip(why)
    overrides = [f"data.data_dir={data_dir}", "train.num_steps=2", "data.max_train_examples=64",
                 "data.batch_size=32"]
    acc = split_seed_table.test_accuracies("sentiment_nb_bow", "pang_lee", [0, 1], str(tmp_path), overrides)
    assert len(acc) == 2 and all(0 <= a <= 1 for a in acc)

    for seed, name in ((0, "pang_lee"), (1, "pang_lee_split1")):
        with open(tmp_path / "sentiment_nb_bow" / f"split{seed}" / "config.json") as f:
            assert json.load(f)["data"]["name"] == name


def test_an_ensemble_row_averages_the_members_runs_of_each_split_seed(monkeypatch):
    from jaxdl.runs import ensemble
    seen = []

    def evaluate(workdirs, splits):
        seen.append((list(workdirs), tuple(splits)))
        return {"test": {"accuracy": 0.5 + 0.1 * len(seen)}}

    monkeypatch.setattr(ensemble, "evaluate", evaluate)
    acc = split_seed_table.ensemble_accuracies(["sentiment_nb_bow", "sentiment_lstm:model.hidden=8"], [0, 3], "W")
    assert acc == [0.6, 0.7]
    assert seen == [(["W/sentiment_nb_bow/split0", "W/sentiment_lstm+model.hidden=8/split0"], ("test",)),
                    (["W/sentiment_nb_bow/split3", "W/sentiment_lstm+model.hidden=8/split3"], ("test",))]


def test_an_ensemble_of_experiments_not_trained_is_refused_before_training():
    with pytest.raises(ValueError, match=r"not among them: \['sentiment_bow'\]"):
        split_seed_table.report("pang_lee", ["sentiment_nb_bow"], ensembles=["sentiment_nb_bow+sentiment_bow"])
    with pytest.raises(ValueError, match="at least 2 members"):
        split_seed_table.report("pang_lee", ["sentiment_nb_bow"], ensembles=["sentiment_nb_bow"])
