"""Every page of the app, in one list: the navigation, the sidebar and the home
page's cards are all drawn from it, so they can only show pages that exist.

Add a topic page by adding one ``PageInfo`` here (and its picture under
``assets/icons/``); tests check that every entry's file and picture exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SECTIONS = (
    "Information & metrics",
    "Building blocks",
    "Generative models",
    "Reinforcement learning",
)


@dataclass(frozen=True)
class PageInfo:
    path: str  # relative to the project root
    title: str
    icon: str  # an emoji: material icons need a web font, and classrooms may be offline
    url_path: str
    section: str | None  # None: not a topic (the home page)
    hook: str = ""  # one line for the home page card
    picture: str = ""  # an SVG under assets/icons/

    @property
    def file(self) -> Path:
        return ROOT / self.path

    @property
    def picture_file(self) -> Path:
        return ROOT / "assets" / "icons" / self.picture


HOME = PageInfo("pages/home.py", "Home", "🧭", "home", None)

TOPICS: tuple[PageInfo, ...] = (
    PageInfo("pages/entropy.py", "Entropy & KL divergence", "🎲", "entropy", "Information & metrics",
             hook="Surprise, cross-entropy and KL: touch two distributions, then train with label smoothing "
                  "or distillation.",
             picture="entropy.svg"),
    PageInfo("pages/roc.py", "ROC & precision-recall", "📈", "roc", "Information & metrics",
             hook="Slide a threshold and watch TPR, FPR and precision trade off, on your own scores too.",
             picture="roc.svg"),
    PageInfo("pages/conv.py", "Convolution arithmetic", "🔲", "conv", "Building blocks",
             hook="Kernel, stride, padding, dilation, transposed and pooling: watch the output size follow "
                  "the formula, frame by frame.",
             picture="conv.svg"),
    PageInfo("pages/activations.py", "Activation functions", "⚡", "activations", "Building blocks",
             hook="ReLU to Swish and Mish with their slopes, vanishing signals at initialisation, and a live race "
                  "of networks on your own points.",
             picture="activations.svg"),
    PageInfo("pages/norms.py", "LRN vs batch normalisation", "⚖️", "norms", "Building blocks",
             hook="Work out LRN and batch norm by hand, then race them on digits and raise the learning rate live.",
             picture="norms.svg"),
    PageInfo("pages/gan.py", "GAN training live", "🎨", "gan", "Generative models",
             hook="A generator and a discriminator play their game on 2-D data, live: watch modes appear "
                  "or collapse.",
             picture="gan.svg"),
    PageInfo("pages/bandits.py", "Multi-armed bandits", "🎰", "bandits", "Reinforcement learning",
             hook="Explore or exploit? Race epsilon-greedy, UCB and Thompson sampling on the 10-armed testbed.",
             picture="bandits.svg"),
    PageInfo("pages/gridworld.py", "Q-learning in a maze", "🐭", "gridworld", "Reinforcement learning",
             hook="Q-learning, SARSA and a deep Q-network learn the same maze, live: click cells to build "
                  "your own.",
             picture="gridworld.svg"),
)


def topics_by_section() -> dict[str, list[PageInfo]]:
    """Topic pages grouped by section, in ``SECTIONS`` order; empty sections left out."""
    grouped: dict[str, list[PageInfo]] = {}
    for section in SECTIONS:
        pages = [p for p in TOPICS if p.section == section]
        if pages:
            grouped[section] = pages
    return grouped


def all_pages() -> list[PageInfo]:
    return [HOME, *TOPICS]
