"""read_kilosort / read_phy on folders written here, compared with the arrays written."""
import numpy as np
import pytest

from gpuspike import BaseExtractor
from gpuspike.extractors import read_kilosort, read_phy

FS = 30000.0


def write_ks_folder(folder, seed=0, clusters_file="spike_clusters.npy", with_tables=True):
    rng = np.random.default_rng(seed)
    folder.mkdir()
    n = 600
    times = np.sort(rng.integers(0, 300_000, size=n)).astype("uint64")
    clusters = rng.choice([0, 1, 2, 5, 7], size=n).astype("int32")
    np.save(folder / "spike_times.npy", times[:, None])  # Kilosort writes (n, 1)
    np.save(folder / clusters_file, clusters)
    (folder / "params.py").write_text(
        "dat_path = r'C:/data/recording.bin'\nn_channels_dat = 32\ndtype = 'int16'\noffset = 0\n"
        f"sample_rate = {FS}\nhp_filtered = False\n")
    labels = {0: "good", 1: "mua", 2: "good", 5: "noise", 7: "good", 9: "good"}  # 9: listed, no spike
    if with_tables:
        (folder / "cluster_KSLabel.tsv").write_text(
            "cluster_id\tKSLabel\n" + "".join(f"{c}\t{'good' if c in (0, 2, 9) else 'mua'}\n" for c in labels))
        (folder / "cluster_group.tsv").write_text(
            "cluster_id\tgroup\n" + "".join(f"{c}\t{g}\n" for c, g in labels.items()))
        (folder / "cluster_info.tsv").write_text(
            "cluster_id\tch\tdepth\tfr\tgroup\n"
            + "".join(f"{c}\t{c * 2}\t{c * 20.5}\t{c + 0.25}\t{labels[c]}\n" for c in labels))
    return times.astype("int64"), clusters.astype("int64"), labels


def reference_trains(times, clusters):
    return {int(c): np.sort(times[clusters == c]) for c in np.unique(clusters)}


def test_read_kilosort_trains_and_properties(tmp_path):
    times, clusters, labels = write_ks_folder(tmp_path / "ks")
    sorting = read_kilosort(tmp_path / "ks")
    assert sorting.get_sampling_frequency() == FS
    assert sorting.get_num_segments() == 1
    ref = reference_trains(times, clusters)
    assert sorting.unit_ids.tolist() == sorted(ref)  # cluster 9 has no spike: removed by default
    for u, train in ref.items():
        np.testing.assert_array_equal(sorting.get_unit_spike_train(u), train)
    assert sorting.get_property("KSLabel").tolist() == ["good", "mua", "good", "mua", "mua"]
    assert sorting.get_property("quality").tolist() == [labels[u] for u in sorting.unit_ids]
    np.testing.assert_allclose(sorting.get_property("depth"), sorting.unit_ids * 20.5)
    np.testing.assert_array_equal(sorting.get_property("ch"), sorting.unit_ids * 2)
    assert sorting.get_property("ch").dtype.kind == "i"
    spikes = sorting.to_spike_vector()
    assert spikes.size == times.size
    np.testing.assert_array_equal(np.sort(spikes["sample_index"]), np.sort(times))


def test_keep_good_only_and_phy_exclude(tmp_path):
    times, clusters, labels = write_ks_folder(tmp_path / "ks", seed=1)
    good = read_kilosort(tmp_path / "ks", keep_good_only=True)
    assert good.unit_ids.tolist() == [0, 2]
    phy = read_phy(tmp_path / "ks", exclude_cluster_groups=["noise", "mua"])
    assert phy.unit_ids.tolist() == [0, 2, 7, 9]  # phy keeps listed units without spikes
    assert phy.get_unit_spike_train(9).size == 0
    np.testing.assert_array_equal(phy.get_unit_spike_train(7), np.sort(times[clusters == 7]))
    assert phy.get_property("quality").tolist() == ["good"] * 4


def test_spike_templates_fallback_and_no_tables(tmp_path):
    times, clusters, _ = write_ks_folder(tmp_path / "ks", seed=2, clusters_file="spike_templates.npy",
                                         with_tables=False)
    sorting = read_kilosort(tmp_path / "ks")
    ref = reference_trains(times, clusters)
    assert sorting.unit_ids.tolist() == sorted(ref)
    for u, train in ref.items():
        np.testing.assert_array_equal(sorting.get_unit_spike_train(u), train)
    with pytest.raises(ValueError, match="keep_good_only=True but .* no KSLabel"):
        read_kilosort(tmp_path / "ks", keep_good_only=True)


def test_kilosort_dumpable(tmp_path):
    times, clusters, _ = write_ks_folder(tmp_path / "ks", seed=3)
    sorting = read_kilosort(tmp_path / "ks", keep_good_only=True)
    assert sorting.is_dumpable
    again = BaseExtractor.from_dict(sorting.to_dict())
    assert again.unit_ids.tolist() == sorting.unit_ids.tolist()
    for u in sorting.unit_ids:
        np.testing.assert_array_equal(again.get_unit_spike_train(u), sorting.get_unit_spike_train(u))


def test_kilosort_errors_name_the_file(tmp_path):
    write_ks_folder(tmp_path / "ks", seed=4)
    (tmp_path / "ks" / "spike_clusters.npy").write_bytes(
        (tmp_path / "ks" / "spike_clusters.npy").read_bytes()[:100])  # truncated
    with pytest.raises(ValueError, match="spike_clusters.npy: cannot be read"):
        read_kilosort(tmp_path / "ks")
    np.save(tmp_path / "ks" / "spike_clusters.npy", np.zeros(3, "int32"))
    with pytest.raises(ValueError, match="spike_times.npy has 600 spikes, spike_clusters.npy has 3"):
        read_kilosort(tmp_path / "ks")
    (tmp_path / "ks" / "params.py").unlink()
    with pytest.raises(FileNotFoundError, match="params.py is missing"):
        read_kilosort(tmp_path / "ks")
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        read_phy(tmp_path / "nope")
