"""The interactive explorer: change the analysis plan's choices and see the result redrawn.

- :mod:`analysis.explorer.choices`: the choices (:class:`ExplorerState`), their plan and
  the sentence saying how they differ from the protocol's primary analysis;
- :mod:`analysis.explorer.compute`: what is shown for one set of choices (:func:`explore`);
- :mod:`analysis.explorer.widgets`: the ipywidgets controls and outputs (:class:`Explorer`);
- :mod:`analysis.explorer.serve`: the code-free web app (``make explore``, Voilà).
"""

from analysis.explorer.choices import MODELS, ExplorerState, ModelOption, ModelParameter, describe_changes
from analysis.explorer.compute import Exploration, explore

__all__ = ["MODELS", "Exploration", "ExplorerState", "ModelOption", "ModelParameter", "describe_changes",
           "explore"]
