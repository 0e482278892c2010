"""Small global sequence models (LSTM, Transformer encoder) in PyTorch — the ``deep`` extra.

One network learns from windows of every series at once (as DeepAR, Salinas et al. 2020, and
the MQ-RNN of Wen et al. 2017 do): the input is the last ``input_size`` days of a series divided
by its level (1 + the window's mean, DeepAR's scale) plus the day of week, and the output is
the whole horizon at once (direct, multi-horizon): a point forecast and the nine quantiles per
step. Training minimises the pinball loss of the quantiles (the M5 uncertainty loss) plus the
squared error of the point forecast. Quantiles are monotone by construction (the lowest level
plus cumulative softplus increments) and clipped at zero after rescaling.

Small networks train fastest on one thread: on a shared 2-core machine two OpenMP threads made
an LSTM step 30 times slower (spinning under contention), hence ``num_threads=1``.

PyTorch is optional (``pip install stockpilot[deep]``) and imported only when a model is fitted.
The surface is the one of every forecaster here: ``fit(df)`` returns ``self`` with the
rolling-origin frame ``cv_`` (for model choice), ``predict(h)`` returns
``unique_id, ds, mean, q…``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Self

import numpy as np
import polars as pl

from stockpilot.errors import StockpilotError
from stockpilot.forecast.base import QUANTILES, qcol

ARCHITECTURES = ("LSTM", "Transformer")
N_FEATURES = 3  # scaled demand, sin and cos of the day of week


def _torch() -> Any:
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise StockpilotError("deep models need PyTorch: pip install 'stockpilot[deep]'") \
            from exc
    return torch


def _network(arch: str, input_size: int, horizon: int, hidden: int, n_outputs: int) -> Any:
    """The torch module: a sequence encoder and a linear head to ``horizon × n_outputs``."""
    torch = _torch()
    nn = torch.nn

    class LSTMNet(nn.Module):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.rnn = nn.LSTM(N_FEATURES, hidden, num_layers=1, batch_first=True)
            self.head = nn.Linear(hidden, horizon * n_outputs)

        def forward(self, x: Any) -> Any:
            _, (h_last, _) = self.rnn(x)
            return self.head(h_last[-1]).view(-1, horizon, n_outputs)

    class TransformerNet(nn.Module):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Linear(N_FEATURES, hidden)
            self.position = nn.Parameter(torch.zeros(1, input_size, hidden))
            layer = nn.TransformerEncoderLayer(hidden, nhead=4, dim_feedforward=2 * hidden,
                                               dropout=0.0, batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, num_layers=2,
                                                 enable_nested_tensor=False)
            self.head = nn.Linear(hidden, horizon * n_outputs)

        def forward(self, x: Any) -> Any:
            z = self.encoder(self.embed(x) + self.position)
            return self.head(z[:, -1]).view(-1, horizon, n_outputs)

    return LSTMNet() if arch == "LSTM" else TransformerNet()


def _split_heads(out: Any, torch: Any) -> tuple[Any, Any]:
    """(point, monotone quantiles) from the raw outputs ``(batch, h, 1 + n_quantiles)``."""
    base = out[..., 1:2]
    steps = torch.nn.functional.softplus(out[..., 2:])
    return out[..., 0], torch.cat([base, base + torch.cumsum(steps, dim=-1)], dim=-1)


class DeepForecaster:
    """A global LSTM or Transformer-encoder forecaster (scikit-learn style estimator)."""

    def __init__(self, arch: str = "LSTM", horizon: int = 28, input_size: int = 56,
                 hidden_size: int = 32, epochs: int = 8, windows_per_series: int = 32,
                 batch_size: int = 256, learning_rate: float = 3e-3, n_windows: int = 1,
                 random_state: int = 0, num_threads: int = 1) -> None:
        self.arch = arch
        self.horizon = horizon
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.epochs = epochs
        self.windows_per_series = windows_per_series
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.n_windows = n_windows
        self.random_state = random_state
        self.num_threads = num_threads

    # ---- the estimator surface -------------------------------------------------------------

    def fit(self, df: pl.DataFrame, X: pl.DataFrame | None = None) -> Self:
        """Rolling-origin errors (``cv_``) from refits before each cutoff, then fit on all."""
        del X  # no exogenous features yet; the day of week is built in
        if self.arch not in ARCHITECTURES:
            raise StockpilotError(f"unknown deep model {self.arch!r}; known: "
                                  f"{', '.join(ARCHITECTURES)}")
        df = df.select("unique_id", "ds", "y").sort("unique_id", "ds")
        self.cv_ = self.cross_validate(df)
        self.net_, self.series_ = self._train(df)
        return self

    def predict(self, h: int, X_future: pl.DataFrame | None = None,
                quantiles: tuple[float, ...] = QUANTILES) -> pl.DataFrame:
        """``unique_id, ds, mean, q…`` for ``h ≤ horizon`` days after the history's end."""
        del X_future
        if h > self.horizon:
            raise StockpilotError(f"trained for {self.horizon} days; asked for {h}")
        return _forecast(self.net_, self.series_, h, quantiles)

    def cross_validate(self, df: pl.DataFrame) -> pl.DataFrame:
        """``unique_id, cutoff, ds, h, y, mean`` over ``n_windows`` origins, refitting each."""
        parts = []
        end: date = df["ds"].max()  # type: ignore[assignment]
        for w in range(self.n_windows, 0, -1):
            cutoff = end - timedelta(days=w * self.horizon)
            train = df.filter(pl.col("ds") <= cutoff)
            if train.is_empty():
                continue
            net, series = self._train(train)
            fc = _forecast(net, series, self.horizon, ())
            actual = df.filter((pl.col("ds") > cutoff)
                               & (pl.col("ds") <= cutoff + timedelta(days=self.horizon)))
            parts.append(fc.join(actual, on=["unique_id", "ds"], how="inner").select(
                "unique_id", pl.lit(cutoff).alias("cutoff"), "ds",
                (pl.col("ds") - pl.lit(cutoff)).dt.total_days().cast(pl.Int32).alias("h"),
                "y", "mean"))
        if not parts:
            return pl.DataFrame(schema={"unique_id": pl.Utf8, "cutoff": pl.Date, "ds": pl.Date,
                                        "h": pl.Int32, "y": pl.Float64, "mean": pl.Float64})
        return pl.concat(parts)

    # ---- training --------------------------------------------------------------------------

    def _train(self, df: pl.DataFrame) -> tuple[Any, _Series]:
        torch = _torch()
        torch.manual_seed(self.random_state)
        torch.set_num_threads(self.num_threads)
        rng = np.random.default_rng(self.random_state)
        series = _Series.from_frame(df, self.input_size)
        levels = torch.tensor(QUANTILES, dtype=torch.float32)
        net = _network(self.arch, self.input_size, self.horizon, self.hidden_size,
                       1 + len(QUANTILES))
        opt = torch.optim.Adam(net.parameters(), lr=self.learning_rate)
        net.train()
        for _ in range(self.epochs):
            x, y = series.sample(rng, self.windows_per_series, self.horizon)
            if len(x) == 0:
                break
            order = rng.permutation(len(x))
            for start in range(0, len(x), self.batch_size):
                idx = order[start:start + self.batch_size]
                xb, yb = torch.from_numpy(x[idx]), torch.from_numpy(y[idx])
                point, q = _split_heads(net(xb), torch)
                diff = yb.unsqueeze(-1) - q  # pinball loss, M5 Competitors' Guide §4
                pinball = torch.maximum(levels * diff, (levels - 1) * diff).mean()
                loss = pinball + ((yb - point) ** 2).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
        net.eval()
        return net, series


class _Series:
    """Every series as a padded float32 matrix with its day of week, for window sampling."""

    def __init__(self, ids: list[str], ends: list[Any], values: np.ndarray,
                 lengths: np.ndarray, dow: np.ndarray, input_size: int) -> None:
        self.ids, self.ends, self.values, self.lengths, self.dow = ids, ends, values, lengths, dow
        self.input_size = input_size

    @classmethod
    def from_frame(cls, df: pl.DataFrame, input_size: int) -> _Series:
        """Right-aligned histories, left-padded with zeros to at least ``input_size`` days."""
        g = df.group_by("unique_id", maintain_order=True).agg(
            pl.col("y"), pl.col("ds").max().alias("end"))
        n = max(input_size, int(g["y"].list.len().max()))  # type: ignore[arg-type]
        values = np.zeros((g.height, n), dtype=np.float32)
        lengths = g["y"].list.len().to_numpy()
        for i, ys in enumerate(g["y"].to_list()):
            values[i, n - len(ys):] = ys
        # weekday of the last day (Monday = 0); earlier days count back from it
        end_dow = np.array([e.weekday() for e in g["end"].to_list()])
        dow = (end_dow[:, None] - np.arange(n - 1, -1, -1)[None, :]) % 7
        return cls(g["unique_id"].to_list(), g["end"].to_list(), values, lengths, dow,
                   input_size)

    def inputs(self, rows: np.ndarray, stops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(network inputs, scales) of the windows ending just before column ``stops``."""
        cols = stops[:, None] - self.input_size + np.arange(self.input_size)[None, :]
        y = self.values[rows[:, None], cols]
        scale = 1.0 + y.mean(axis=1)  # DeepAR's level (Salinas et al. 2020 §3.3)
        angle = 2 * np.pi * self.dow[rows[:, None], cols] / 7
        x = np.stack([y / scale[:, None], np.sin(angle), np.cos(angle)], axis=-1)
        return x.astype(np.float32), scale.astype(np.float32)

    def sample(self, rng: np.random.Generator, per_series: int, horizon: int
               ) -> tuple[np.ndarray, np.ndarray]:
        """Random training windows (inputs, scaled targets) from series long enough."""
        n = self.values.shape[1]
        first = n - self.lengths  # first real column of each series
        room = self.lengths - horizon  # windows whose targets are all real days
        rows = np.repeat(np.flatnonzero(room > 0), per_series)
        if rows.size == 0:
            return np.zeros((0,)), np.zeros((0,))
        lo = np.maximum(first[rows] + 1, self.input_size)
        hi = n - horizon
        stops = lo + (rng.random(rows.size) * np.maximum(hi - lo + 1, 1)).astype(int)
        stops = np.minimum(stops, hi)
        x, scale = self.inputs(rows, stops)
        cols = stops[:, None] + np.arange(horizon)[None, :]
        y = self.values[rows[:, None], cols] / scale[:, None]
        return x, y.astype(np.float32)


def _forecast(net: Any, series: _Series, h: int, quantiles: tuple[float, ...]
              ) -> pl.DataFrame:
    """Forecast frame from the last ``input_size`` days of every series."""
    torch = _torch()
    rows = np.arange(len(series.ids))
    stops = np.full(rows.size, series.values.shape[1])
    x, scale = series.inputs(rows, stops)
    with torch.no_grad():
        point, q = _split_heads(net(torch.from_numpy(x)), torch)
    point = np.clip(point.numpy()[:, :h] * scale[:, None], 0, None)
    q = np.clip(q.numpy()[:, :h, :] * scale[:, None, None], 0, None)
    days = [[e + timedelta(days=k) for k in range(1, h + 1)] for e in series.ends]
    out = pl.DataFrame({"unique_id": np.repeat(series.ids, h),
                        "ds": [d for ds in days for d in ds],
                        "mean": point.ravel().astype(np.float64)})
    wanted = {qcol(t): i for i, t in enumerate(QUANTILES)}
    return out.with_columns(*[pl.Series(qcol(t), q[:, :, wanted[qcol(t)]].ravel()
                                        .astype(np.float64)) for t in quantiles
                              if qcol(t) in wanted])
