"""Streamlit helpers private to the GAN page: the controls, the live views, the lessons.

The page file stays thin: ``layout()`` gives it a narrow settings column and a
wide column for the live view; it calls ``controls()`` in the first (for a
``GANConfig`` and the chosen preset), hands ``make_render(...)`` to the
live-training panel in the second and shows ``explanations()`` below both.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, fields

import numpy as np
import streamlit as st

from core.gan import (
    LOSSES,
    PARAMS,
    PRESET_KEEPS,
    PRESETS,
    SMOOTHABLE,
    GANConfig,
    GANSnapshot,
    preset_values,
)
from core.gan_targets import MODES, has_modes, perfect_divergences
from core.plots.gan import (
    coverage_figure,
    divergence_figure,
    gradient_figure,
    loss_figure,
    manifold_figure,
    plane_figure,
    shares_figure,
)
from ui.formula import formula
from ui.live import current_run
from ui.livechart import Chart, live_charts
from ui.url_state import UrlState

url = UrlState("gan")
RUN_KEY = "gan:run"  # the live panel of this page


def _apply_preset() -> None:
    """on_change of the preset box: set every control but the target and the seed to the preset's value."""
    name = st.session_state[url.param_key(PARAMS["preset"])]
    keep = {n: st.session_state.get(url.param_key(PARAMS[n]), PARAMS[n].default) for n in PRESET_KEEPS}
    url.apply(PARAMS, {**preset_values(name), **keep})


def layout():
    """The page's two places side by side: the settings (narrow) and the live view (wide).

    At 1280 x 800 the Start button, the main settings and the whole plane share the
    first screen (the page rules). The live panel is a fragment, which can only draw
    into its own container, so all of it (buttons, status line, every chart) goes in
    the wide column. On a phone the columns stack: settings, then the live view.
    """
    # 3 : 1 leaves the live column about 600 px at 1280 x 800: enough for "▶ Resume" in its button.
    return st.columns([1, 3], gap="small")


@dataclass(frozen=True)
class Settings:
    """What the controls ask for: the run's config and the preset it started from."""

    config: GANConfig
    preset: str


def controls() -> Settings:
    """Every control of the page, bound to the URL, one under the other (for a narrow column)."""
    url.upgrade_link(PARAMS)  # links from before the parameter table used short codes (glr, nz, sn...)
    url.start_from_preset(PARAMS, PARAMS["preset"], preset_values)  # ?preset=collapse&noise_dim=4
    values: dict = {}

    def draw(name: str, **overrides) -> None:
        values[name] = url.widget(PARAMS[name], **overrides)

    draw("preset", on_change=_apply_preset)
    for name in ("target", "loss", "g_lr", "d_lr", "d_steps", "seed"):
        draw(name)
    preset = PRESETS[values["preset"]]

    with st.expander("Networks, noise, batch and stabilising tricks", expanded=False):
        smoothable = values["loss"] in SMOOTHABLE
        groups = (
            ("Generator", ("g_optimizer", "g_depth", "g_width"), {}),
            ("Discriminator", ("d_optimizer", "d_depth", "d_width"), {}),
            ("Noise and data", ("noise_dim", "noise", "batch_size"), {}),
            ("Optimiser and activation", ("beta1", "beta2", "lr_schedule", "activation"), {}),
            ("Stabilising tricks and run length",
             ("label_smoothing", "instance_noise", "gp_weight", "spectral_norm", "max_steps"),
             {"label_smoothing": {"disabled": not smoothable},
              "gp_weight": {"disabled": values["loss"] != "wgan-gp"}}),
        )
        for title, names, overrides in groups:
            st.markdown(f"**{title}**")
            for name in names:
                draw(name, **overrides.get(name, {}))
        if not smoothable and values["label_smoothing"]:
            st.caption("Label smoothing is off: the Wasserstein and hinge critics have no 'real' label to smooth.")

    config = GANConfig(**{
        **{name: values[name] for name in PARAMS.config_defaults()},
        "label_smoothing": values["label_smoothing"] if smoothable else 0.0,
        "seed": int(values["seed"]),
    })
    expected = preset.config(**{name: getattr(config, name) for name in PRESET_KEEPS})
    changed = [f.name for f in fields(GANConfig)
               if f.name not in PRESET_KEEPS and getattr(config, f.name) != getattr(expected, f.name)]
    if changed:
        st.caption(f"Changed from the preset: {', '.join(PARAMS[name].label for name in changed)}.")
    return Settings(config, values["preset"])


def view_toggles() -> dict[str, bool]:
    """What the plane draws (not part of the link: a way of looking, not a setting of the run)."""
    st.markdown("**Show on the plane**")
    labels = {"heatmap": "D heatmap", "real": "real samples", "fake": "generated samples",
              "arrows": "G's gradient arrows", "modes": "mode markers"}
    return {name: st.checkbox(label, True, key=f"gan:view:{name}") for name, label in labels.items()}


def _fmt(value: float | None, digits: int = 3) -> str:
    if value is None or not np.isfinite(value):
        return "—"
    if abs(value) >= 1e4:  # short enough for a metric tile: -1.1e4, not -1.05e+04
        mantissa, exponent = f"{value:.1e}".split("e")
        return f"{mantissa}e{int(exponent)}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


PLANE_HEIGHT = 450  # px: the whole plane fits beside the settings at 1280 x 800, under the Start button
SIDE_HEIGHT = 380  # px: the manifold, square too, stays smaller than the plane


def make_render(views: dict[str, bool], preset: str):
    """The ``render(snapshot)`` the live panel calls on every tick: the plane first (the main
    view), its numbers and the preset's lesson under it, then the other charts."""
    lesson = PRESETS[preset]

    def render(snap: GANSnapshot) -> None:
        m = snap.metrics
        run = current_run(RUN_KEY)
        live_charts("gan:plane", [Chart("plane", plane_figure(snap, height=PLANE_HEIGHT, **views))],
                    columns=1, step=snap.step)
        row1, row2 = st.columns(3), st.columns(3)
        if snap.n_modes:
            row1[0].metric("Modes covered", f"{int(m['coverage'])} of {snap.n_modes}",
                           help="A mode counts when it receives at least 40 % of its fair share of 2,000 "
                                "generated samples (5 % for 8 modes) within 3 standard deviations of its centre.")
        else:
            row1[0].metric("Modes covered", "—", help="This target is not a mixture of separate modes.")
        row1[1].metric("JS divergence (bits)", _fmt(m["js_bits"]),
                       help="Between the real and generated histograms: 0 = identical, 1 = no overlap at all.")
        row1[2].metric("KL divergence (bits)", _fmt(m["kl_bits"]),
                       help="KL(real ‖ generated): large when G misses places where the real data lives.")
        row2[0].metric("D loss", _fmt(m.get("d_loss")))
        row2[1].metric("G loss", _fmt(m.get("g_loss")))
        row2[2].metric("Mean |∂L_G/∂x|", _fmt(m.get("grad_norm")),
                       help="How strongly the generator's loss pulls its samples: near 0, G stops learning.")
        st.info(f"**{lesson.label}.** {lesson.lesson}", icon="👀")
        charts = [
            Chart("manifold", manifold_figure(snap, height=SIDE_HEIGHT)),
            Chart("loss", loss_figure(snap), history=True),
            Chart("divergence", divergence_figure(snap, perfect_divergences(snap.target)), history=True),
        ]
        if snap.n_modes:
            charts += [Chart("coverage", coverage_figure(snap), history=True), Chart("shares", shares_figure(snap))]
        charts.append(Chart("gradient", gradient_figure(snap), history=True))
        live_charts("gan:charts", charts, columns=2, step=snap.step, markers=run.changes if run else ())
        st.download_button("⬇️ Download the samples shown (CSV)",  # the file is written when clicked, not every tick
                           functools.partial(_samples_csv, snap),
                           file_name=f"gan-samples-step-{snap.step}.csv", mime="text/csv", key="gan:download")

    return render


def loss_formula(loss: str) -> None:
    d_fx, g_fz = r"D(x)", r"D(G(z))"
    table = {
        "minimax": (rf"L_D = -\mathbb{{E}}_x[\log {d_fx}] - \mathbb{{E}}_z[\log(1 - {g_fz})]",
                    rf"L_G = \mathbb{{E}}_z[\log(1 - {g_fz})]",
                    ("G minimises exactly what D maximises. When D confidently rejects a generated point "
                    "(D(G(z)) near 0), log(1 − D) is flat there, so G's gradient vanishes: the loss saturates.")),
        "nonsaturating": (rf"L_D = -\mathbb{{E}}_x[\log {d_fx}] - \mathbb{{E}}_z[\log(1 - {g_fz})]",
                          rf"L_G = -\mathbb{{E}}_z[\log {g_fz}]",
                          ("Same D; G maximises log D(G(z)) instead. The gradient is largest exactly where D "
                          "rejects G's points, so G learns even when D is winning.")),
        "lsgan": (rf"L_D = \tfrac12\mathbb{{E}}_x[({d_fx} - 1)^2] + \tfrac12\mathbb{{E}}_z[{g_fz}^2]",
                  rf"L_G = \tfrac12\mathbb{{E}}_z[({g_fz} - 1)^2]",
                  ("Least squares: D regresses real points to 1 and generated ones to 0; points far on the "
                  "wrong side are pulled back hard, so gradients do not vanish.")),
        "wgan-gp": ((r"L_D = \mathbb{E}_z[f(G(z))] - \mathbb{E}_x[f(x)] + \lambda\,\mathbb{E}_{\hat x}"
                    r"[(\lVert\nabla f(\hat x)\rVert - 1)^2]"),
                    r"L_G = -\mathbb{E}_z[f(G(z))]",
                    ("The critic f estimates the Wasserstein (earth mover's) distance; the penalty keeps "
                    "its slope near 1 on points x̂ between real and generated samples.")),
        "hinge": (r"L_D = \mathbb{E}_x[\max(0, 1 - f(x))] + \mathbb{E}_z[\max(0, 1 + f(G(z)))]",
                  r"L_G = -\mathbb{E}_z[f(G(z))]",
                  "D only cares about points inside the margin; G pushes its points towards higher critic values."),
    }
    l_d, l_g, text = table[loss]
    formula(l_d + r"\qquad " + l_g, text, title=f"The {LOSSES[loss].lower()} loss")


def coverage_note(target: str) -> None:
    if not has_modes(target):
        st.caption("This target is one connected shape, so there are no modes to count: watch the JS and KL "
                   "divergences and the picture instead.")


def _samples_csv(snap: GANSnapshot) -> str:
    rows = [f"real,{x:.5f},{y:.5f}" for x, y in snap.real] + [f"generated,{x:.5f},{y:.5f}" for x, y in snap.fake]
    return "kind,x1,x2\n" + "\n".join(rows) + "\n"


def explanations(config: GANConfig) -> None:
    st.divider()
    st.subheader("What you are looking at")
    zone = ""
    if has_modes(config.target):
        radius = 3 * MODES[config.target].std
        zone = (f"the zone that counts is a disc of radius 3 standard deviations around the centre, {radius:.2g} "
                f"plane units here ({2 * radius:.2g} across), so a cloud that merely hovers near a mode does "
                "not cover it yet.")
    st.markdown(
        "**The game.** A generator G turns random noise z into points G(z) in the plane. A discriminator D "
        "sees real points from the target and points from G, and learns to tell them apart. G never sees "
        "the real data: it only learns from D's verdict, moving its points where D finds them more real. "
        "They take turns, and when the game goes well G's points end up spread like the real ones."
    )
    st.markdown(
        "- **The plane** (beside the settings). Green dots are real samples, purple dots generated ones. The background is "
        "D's opinion: green where D says *real*, purple where it says *generated* (for the Wasserstein and "
        "hinge losses, the critic's score, higher = more real). Orange arrows start at generated points and "
        "point along −∂L_G/∂x: the direction in which moving that point would lower the generator's loss, "
        "up D's hill. They show the pull D exerts, not the step an update takes (G moves its weights, and "
        "every point moves with them); lengths are relative, the legend gives the longest. "
        + (f"Circles mark the modes of the mixture, red when missed. The circles are drawn large so you can "
           f"find them: {zone}" if zone else "") + "\n"
        "- **The manifold** (under the plane's numbers). A square grid of noise vectors z, pushed through G. Where the grid "
        "stretches thin, G spreads few samples; where it bunches up, many. G is a continuous map, so to "
        "hit eight separate modes it must stretch the grid into thin bridges between them. (With more than "
        "two noise dimensions, the grid varies the first two and holds the others at 0.)\n"
        "- **Under the manifold.** Both losses per generator step; the number of modes covered and the KL and JS "
        "divergence between the real and generated histograms over time (the dotted lines are what a "
        "perfect generator scores with the same 2,000 samples); and how hard D pulls G's samples."
    )
    loss_formula(config.loss)
    formula(
        r"\min_G \max_D \; V(D, G) = \mathbb{E}_{x \sim p_\text{data}}[\log D(x)]"
        r" + \mathbb{E}_{z \sim p_z}[\log(1 - D(G(z)))]",
        "The original minimax game (Goodfellow et al., 2014). For a fixed G the best D is "
        "p_data / (p_data + p_G); against that D, G minimises 2 · JS(p_data, p_G) − log 4, so the game's "
        "equilibrium is G reproducing the data. Training alternates gradient steps on D and on G.",
        title="The game",
    )
    st.subheader("Why GANs are hard to train, and the tricks on this page")
    tricks = {
        "Saturating vs non-saturating loss": (
            "Early on D wins easily, D(G(z)) ≈ 0, and log(1 − D(G(z))) is flat there: the minimax generator "
            "gets almost no gradient. Flipping G's objective to maximise log D(G(z)) has the same fixed point "
            "but strong gradients exactly when G is losing. Compare the two presets and the arrow lengths."),
        "Mode collapse": (
            "G finds one point D currently likes and sends every sample there. D then learns to reject that "
            "spot, G jumps to another mode, and so on: the generated cloud hops around the ring instead of "
            "covering it. The losses can look perfectly calm while it happens; the coverage chart cannot."),
        "Balancing D and G (D steps, TTUR)": (
            "A D that is far ahead gives saturated or useless gradients; a D that lags cannot tell G where the "
            "data is. More D steps per G step, or a larger D learning rate than G's (the two time-scale update "
            "rule, TTUR), keep D close to its best response so that G follows a meaningful signal."),
        "Learning rate and mode collapse": (
            "Too large a rate makes both players overshoot and orbit the equilibrium instead of settling; too "
            "small a rate and nothing happens within the run. Adam's β₁ (momentum) matters too: GANs "
            "traditionally lower it to 0.5 or 0."),
        "Instance noise": (
            "Adding the same Gaussian noise to real and generated points makes the two distributions overlap, "
            "so D's surface is smooth and gives G useful gradients even far from the data. Too much noise "
            "blurs the target and the modes come out fat."),
        "One-sided label smoothing": (
            "D is trained towards 0.9 (say) instead of 1 for real points, which stops it from becoming "
            "over-confident. Only the real side is smoothed: smoothing the fake side would reward G's "
            "mistakes."),
        "Spectral normalisation": (
            "Each of D's weight matrices is divided by its largest singular value, so D is 1-Lipschitz: its "
            "output cannot change faster than its input. The heatmap becomes smooth and the gradients bounded."),
        "Wasserstein loss with gradient penalty": (
            "The critic estimates the earth mover's distance, which stays informative even when real and "
            "generated points do not overlap at all (where JS is stuck at 1 bit). The penalty keeps the "
            "critic's slope near 1. It usually wants several critic steps per generator step."),
    }
    for title, text in tricks.items():
        with st.expander(title):
            st.markdown(text)
    st.subheader("How the numbers are measured")
    st.markdown(
        "Every 50 generator steps the page pushes the same 2,000 noise vectors through G. **Modes covered**: "
        "a mode of a mixture target counts when at least 40 % of its fair share of those samples (5 % for "
        "the ring of 8) lies within three standard deviations of its centre. **KL and JS**: both sets of "
        "points are binned on a 30 x 30 grid over the square [−3, 3]², each cell gets a pseudo-count of "
        "0.5 (so no cell is empty and KL stays finite), and the divergences are computed in bits. The "
        "real histogram uses 200,000 target samples. With only 2,000 samples even a perfect generator "
        "scores above 0: the dotted lines show that floor."
    )
