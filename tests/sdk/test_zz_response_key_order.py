"""Issue 10: the key order of every response follows the real API's, as the
official SDKs' response models give it (`to_map()` emits the documented
fields in the model's order, at every level). Clients such as footmark fill
objects from a response's keys in order and break otherwise (an instance's
`PublicIpAddress` before its `EipAddress` sent footmark's describe_instances
into a RecursionError).

conftest records every successful body the generated SDKs receive during the
session; this module runs last (by name) and checks them all. When the whole
suite ran it also requires that every action eipd registers was seen."""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path

import pytest
from alibabacloud_alb20200616 import models as alb_models
from alibabacloud_bssopenapi20171214 import models as bss_models
from alibabacloud_ecs20140526 import models as ecs_models
from alibabacloud_nlb20220430 import models as nlb_models
from alibabacloud_quotas20200510 import models as quotas_models
from alibabacloud_slb20140515 import models as slb_models
from alibabacloud_sts20150401 import models as sts_models
from alibabacloud_vpc20160428 import models as vpc_models

from conftest import RESPONSES, eipd_bin

MODELS = {
    "2016-04-28": vpc_models,
    "2014-05-26": ecs_models,
    "2014-05-15": slb_models,
    "2020-06-16": alb_models,
    "2022-04-30": nlb_models,
    "2015-04-01": sts_models,
    "2020-05-10": quotas_models,
    "2017-12-14": bss_models,
}


def registered_actions() -> set[tuple[str, str]]:
    """(version, action) of every action in eipd's registry (its coverage document)."""
    text = subprocess.run([str(eipd_bin()), "api-coverage"], check=True, capture_output=True, text=True).stdout
    out, version = set(), None
    for line in text.splitlines():
        if line.startswith("## "):
            version = line.split()[-1]
        elif line.startswith("| ") and not line.startswith("| Action") and version:
            out.add((version, line.split("|")[1].strip()))
    return out


def order_problems(ours, ref, path: str) -> list[str]:
    """Where `ours` lists, at some level, the model's keys in another order."""
    problems = []
    if isinstance(ours, dict) and isinstance(ref, dict):
        mine = [k for k in ours if k in ref]
        theirs = [k for k in ref if k in ours]
        if mine != theirs:
            problems.append(f"{path or '/'}: {mine} but the model has {theirs}")
        for k in mine:
            problems += order_problems(ours[k], ref[k], f"{path}/{k}")
    elif isinstance(ours, list) and isinstance(ref, list):
        for i, (a, b) in enumerate(zip(ours, ref)):
            problems += order_problems(a, b, f"{path}[{i}]")
    return problems


def test_every_response_lists_its_keys_in_the_models_order():
    if not RESPONSES:
        pytest.skip("no SDK response was recorded in this session")
    problems = []
    for (version, action), bodies in sorted(RESPONSES.items()):
        model = getattr(MODELS[version], f"{action}ResponseBody", None)
        assert model is not None, f"the SDK has no response model for {action} ({version})"
        for body in bodies:
            ref = model().from_map(copy.deepcopy(body)).to_map()
            problems += [f"{action} ({version}) {p}" for p in order_problems(body, ref, "")]
    assert not problems, "\n".join(problems[:40])


def test_the_whole_suite_saw_every_registered_action(request):
    cfg = request.config
    whole_directory = [Path(a).resolve() for a in cfg.args] == [Path(__file__).parent.resolve()]
    if not whole_directory or cfg.option.keyword or cfg.option.markexpr or getattr(cfg.option, "lf", False):
        pytest.skip("only part of the suite ran; coverage of every action is checked on a full run")
    missing = sorted(registered_actions() - set(RESPONSES))
    assert not missing, f"no successful SDK response recorded for: {missing}"
