"""Home: what the app is for, one card per topic, and a warm-up live demo."""

import streamlit as st

from core.plots.regression import fit_figure, loss_figure
from core.regression import PARAMS, RegressionConfig, RegressionTrainer
from ui.live import current_run, live_training_panel
from ui.livechart import Chart, live_charts
from ui.formula import formula
from ui.registry import topics_by_section
from ui.shell import run_inside_app
from ui.url_state import UrlState

run_inside_app()
st.title("🧭 ML Explorables")
st.caption(
    "Move a control and watch a machine-learning idea change; every number on screen is checked against an "
    "independent reference. **Warm-up:** a network with two hidden layers fits 64 noisy points by gradient "
    "descent on the mean squared error. Press **Start**, then move the learning rate while it trains. With "
    "SGD + momentum and tanh, 0.3 makes this run diverge; Adam, which scales each step by the recent size of "
    "the gradient, survives it. The topics are below."
)

url = UrlState("home")
url.upgrade_link(PARAMS)
values = {}
for column, param in zip(st.columns(len(PARAMS.params)), PARAMS, strict=True):
    with column:
        values[param.name] = url.widget(param)

config = RegressionConfig(**values)


def _render(snap) -> None:
    run = current_run("home:demo")
    live_charts("home:charts", [Chart("fit", fit_figure(snap)), Chart("loss", loss_figure(snap), history=True)],
                columns=2, step=snap.step, markers=run.changes if run else ())


live_training_panel(
    "home:demo",
    build=lambda: RegressionTrainer(config),
    signature=config,
    render=_render,
    max_steps_per_update=200,
    default_steps_per_update=25,
)

with st.expander("The maths behind the demo"):
    formula(
        r"L(\theta) = \frac{1}{n}\sum_{i=1}^{n}\big(f_\theta(x_i) - y_i\big)^2, \qquad "
        r"v \leftarrow 0.9\,v + \nabla_\theta L, \quad \theta \leftarrow \theta - \eta\, v",
        "The loss L is the mean squared error between the network's outputs f(x) and the noisy "
        "targets y. Each step of SGD with momentum keeps a running direction v and moves the "
        "weights θ against it by the learning rate η. Too large an η overshoots the valley, "
        "and the loss grows instead of shrinking: the run diverges.",
    )

st.divider()
for section, pages in topics_by_section().items():
    st.subheader(section)
    columns = st.columns(3)
    for i, info in enumerate(pages):
        with columns[i % 3].container(border=True):
            st.image(str(info.picture_file), width=96)
            st.markdown(f"**{info.icon} {info.title}**")
            st.caption(info.hook)
            st.page_link(info.path, label=f"Open {info.title}", icon="➡️")

