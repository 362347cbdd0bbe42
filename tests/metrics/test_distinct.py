import pandas as pd

from metrics.distinct import each_distinct


def test_each_cell_takes_its_values_translation_and_a_missing_cell_the_missing_value():
    calls: list[object] = []

    def translate(value: object) -> object:
        calls.append(value)
        return f"<{value}>"

    values = pd.Series(["东城区", None, "西城区", "东城区"], index=[7, 8, 9, 10], dtype="string[pyarrow]")
    out = each_distinct(values, translate, missing="无")
    assert out.tolist() == ["<东城区>", "无", "<西城区>", "<东城区>"]
    assert out.index.tolist() == [7, 8, 9, 10]
    assert calls == ["东城区", "西城区"]  # once per distinct value, never for the missing cell
