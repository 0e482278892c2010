"""Supplier lead times: stated vs measured from purchase-order receipts."""

from __future__ import annotations

from fastapi import APIRouter

from stockpilot.api.deps import Ctx, Viewer
from stockpilot.api.problems import COMMON
from stockpilot.api.schemas import Out
from stockpilot.store.uow import reading
from stockpilot.usecases.leadtimes import lead_time_report

router = APIRouter(tags=["suppliers"], responses={**COMMON})


class SupplierLeadTimePublic(Out):
    """A supplier's stated lead time, the measured one and what the plan uses."""

    supplier: str
    stated_days: float | None
    n_receipts: int
    measured_mean_days: float | None
    measured_p90_days: int | None
    planned_mean_days: float | None
    used: bool


@router.get("/lead-times")
def list_lead_times(who: Viewer, ctx: Ctx, supplier: str | None = None
                    ) -> list[SupplierLeadTimePublic]:
    """Per supplier: stated, measured (mean, P90) and planned lead time.

    Lines of one PO received the same day count as one receipt; the planned lead time blends
    measured and stated once there are 5 receipts.
    """
    with reading(ctx.engine) as uow:
        df = lead_time_report(uow, supplier)
    return [SupplierLeadTimePublic(**r) for r in df.iter_rows(named=True)]
