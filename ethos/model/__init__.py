"""The ethos classifier, by job:

- :mod:`~ethos.model.data`: training data (gold else majority, names masked, layers);
- :mod:`~ethos.model.pipeline`: candidates, the scikit-learn pipeline, decision scores, :class:`EthosModel`;
- :mod:`~ethos.model.evaluation`: grouped cross-validation, figures per layer, checks, learning curve, training;
- :mod:`~ethos.model.calibration`: temperature scaling and how well probabilities hold;
- :mod:`~ethos.model.store`: the fitted model as data (JSON and ``.npz``, never a pickle);
- :mod:`~ethos.model.saving`: manifest, journalled saving under a lock, loading;
- :mod:`~ethos.model.retraining`: what changed since the previous model;
- :mod:`~ethos.model.coder`: the model as one more coder.

The names below are the package's public interface; modules import from the submodules directly.
"""

from .data import (  # noqa: F401
    CONTRAST_LAYER,
    CONTRAST_SHARE,
    layer_map,
    mask_names,
    NAME_PARTICLES,
    name_tokens,
    text_key,
    training_data,
    TrainingData,
    unit_key,
)
from .pipeline import (  # noqa: F401
    build_pipeline,
    Candidate,
    CANDIDATES,
    decision_scores,
    DEFAULT_CANDIDATE,
    EthosModel,
    linear_parts,
    named_features,
    SEED,
)
from .calibration import (  # noqa: F401
    CALIBRATION_METHOD,
    calibration_report,
    calibrator,
    CONFIDENT,
    out_of_fold_probabilities,
    TemperatureScaling,
)
from .evaluation import (  # noqa: F401
    _fitted,
    check_results,
    cross_validate,
    CrossValidation,
    evaluate,
    FLOORS,
    evaluation_report,
    folds_of_manifest,
    grouped_folds,
    layer_report,
    learning_curve,
    N_SPLITS,
    pooled_macro_f1,
    SELECTION_RULE,
    keeps_floors,
    selection_score,
    train,
    Training,
)
from .store import (  # noqa: F401
    DATA_FILES,
    FORMAT,
    LEGACY_FILE,
    MODEL_ARRAYS,
    MODEL_JSON,
    read_model,
    write_model,
)
from .saving import (  # noqa: F401
    build_manifest,
    file_sha256,
    library_versions,
    load_model,
    MANIFEST_FILE,
    MODEL_FORMAT,
    model_identity,
    read_manifest,
    recover_interrupted_save,
    save_model,
    settle_interrupted_save,
    SWAP_WAIT_SECONDS,
    TrainingLock,
)
from .retraining import (  # noqa: F401
    changed_passages,
    compare_with_previous,
    WORSE_BY,
)
from .coder import (  # noqa: F401
    MODEL_CODER,
    model_codings,
)
