"""The interactive explorer: change the analysis plan's choices and see the result redrawn.

- :mod:`analysis.apps.explorer.choices`: the choices (:class:`ExplorerState`), their plan and
  the sentence saying how they differ from the protocol's primary analysis;
- :mod:`analysis.apps.explorer.compute`: what is shown for one set of choices (:func:`explore`);
- :mod:`analysis.apps.explorer.widgets`: the ipywidgets controls and outputs (:class:`Explorer`);
- :mod:`analysis.apps.explorer.serve`: the code-free web app (``make explore``, Voilà).
"""

from analysis.apps.explorer.choices import MODELS, ExplorerState, ModelOption, ModelParameter, describe_changes
from analysis.apps.explorer.compute import Exploration, explore

__all__ = ["MODELS", "Exploration", "ExplorerState", "ModelOption", "ModelParameter", "describe_changes",
           "explore"]
