# Quick start: `make run` (set up, then process the demo video) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Two installs: what `process` needs (LiteRT, OpenCV, Pillow, paho-mqtt; no TensorFlow), and on
# top of it everything the tests, training and H.264 output need.
RUNTIME := $(VENV)/.installed-runtime
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench model fold cv landmark-model system-deps clean

$(RUNTIME): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	touch $(RUNTIME)

$(STAMP): pyproject.toml $(RUNTIME)
	$(BIN)/python -m pip install -q -e '.[dev,train,h264]'
	touch $(STAMP)

# apt packages the tests use (mosquitto, Arabic fonts); skipped when already present.
system-deps:
	@bash .ci/system-deps.sh

run: $(RUNTIME)
	$(BIN)/edge-arasl process examples/demo.mp4

test: $(STAMP) system-deps
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_classifier.py
	$(BIN)/python benchmarks/bench_pipeline.py

# Retrain the shipped model's recipe (models/MODEL_CARD.md): `make model DATA=arasl.npz`.
# It trains on every block of models/folds/final.json, which is every block of the data set but
# the reserve (2 blocks per class, in no fold either; the samples, demo video and tests come
# from it) and its 10% validation blocks. Stage 1 keeps its best epoch on validation; stage 2
# continues from it on the validation blocks too, at a quarter of the augmentation strength,
# and exports the average of its 12 epochs; the runtime shrinks its input by 1 pixel a side
# (--margin 1, chosen on the validation blocks). A quarter of stage 2's synthetic `none`
# images are squares of cluttered rooms (NONE_CLUTTER; `edge-arasl train --none-clutter`).
# About 80 minutes on 2 CPU cores; a killed run resumes as `make fold` does. SEED changes the
# augmentation draws.
RUN ?= runs/arasl
SEED ?= 0
NONE_CLUTTER ?= 0.25
SPLIT ?= models/folds/final.json
model: $(STAMP)
	@test -n "$(DATA)" || { echo "make model: set DATA=path/to/arasl.npz" >&2; exit 2; }
	test -f $(RUN)/stage1/metrics.json || $(BIN)/edge-arasl train --data "$(DATA)" \
		--out $(RUN)/stage1 --split $(SPLIT) --seed $(SEED)
	$(BIN)/edge-arasl train --data "$(DATA)" --out $(RUN) --split $(SPLIT) --seed $(SEED) \
		--init $(RUN)/stage1/arasl_float.keras --epochs 0 --swa-epochs 12 --swa-strength 0.25 \
		--train-on-val --margin 1 --none-clutter $(NONE_CLUTTER)

# K-fold block cross-validation (issue 21; models/MODEL_CARD.md, "Cross-validation protocol"):
# `make fold FOLD=k DATA=arasl.npz` runs the same two stages as `make model` on the blocks of
# models/folds/fold$(FOLD).json (about an hour) and copies the fold's figures and out-of-fold
# predictions to models/folds/fold$(FOLD)_metrics.json, and its int8 model and stage 1's beside
# them (fold$(FOLD)_int8.tflite, fold$(FOLD)_stage1_int8.tflite: 0.3 MB each, so fused and
# ensemble figures can be made later without training the fold again). A killed run resumes:
# a finished stage 1 (its metrics.json) is reused, and a stage killed part-way goes on from its
# last epoch (OUT/checkpoint; run it again with the same DATA). `make cv DATA=...` runs every fold whose
# metrics file is missing, so it resumes across sessions; `python benchmarks/cv_report.py`
# pools the folds done so far. A cheaper screening run for ideas writes elsewhere, e.g.
# `make cv DATA=... EPOCHS=8 SWA_EPOCHS=4 FOLDS="0 1" FOLDS_RUN=runs/screen CV_OUT=runs/screen`
# (its metrics record the epochs; never pool it with the full runs). The folds of the recipe
# before cluttered-room `none` images (NONE_CLUTTER=0) are models/folds/fold*_metrics.json and
# models/folds/run2/; the recipe's own go to models/folds/run3 (a metrics file records the
# share, so never pool runs with different shares).
FOLD ?= 0
FOLDS ?= 0 1 2 3 4
FOLDS_DIR ?= models/folds
FOLDS_RUN ?= runs/folds
CV_OUT ?= $(FOLDS_DIR)/run3
EPOCHS ?= 24
SWA_EPOCHS ?= 12
FOLD_RUN = $(FOLDS_RUN)/fold$(FOLD)
FOLD_SPLIT = $(FOLDS_DIR)/fold$(FOLD).json
fold: $(STAMP)
	@test -n "$(DATA)" || { echo "make fold: set DATA=path/to/arasl.npz" >&2; exit 2; }
	@test -f "$(FOLD_SPLIT)" || { echo "make fold: no $(FOLD_SPLIT)" >&2; exit 2; }
	test -f $(FOLD_RUN)/stage1/metrics.json || $(BIN)/edge-arasl train --data "$(DATA)" \
		--out $(FOLD_RUN)/stage1 --split $(FOLD_SPLIT) --seed $(SEED) --epochs $(EPOCHS)
	$(BIN)/edge-arasl train --data "$(DATA)" --out $(FOLD_RUN) --split $(FOLD_SPLIT) --seed $(SEED) \
		--init $(FOLD_RUN)/stage1/arasl_float.keras --epochs 0 --swa-epochs $(SWA_EPOCHS) \
		--swa-strength 0.25 --train-on-val --margin 1 --none-clutter $(NONE_CLUTTER)
	mkdir -p $(CV_OUT)
	cp $(FOLD_RUN)/fold_metrics.json $(CV_OUT)/fold$(FOLD)_metrics.json
	for ext in tflite json; do \
		cp $(FOLD_RUN)/arasl_int8.$$ext $(CV_OUT)/fold$(FOLD)_int8.$$ext && \
		cp $(FOLD_RUN)/stage1/arasl_int8.$$ext $(CV_OUT)/fold$(FOLD)_stage1_int8.$$ext || exit 1; \
	done  # a model is read with its metadata beside it

cv: $(STAMP)
	@test -n "$(DATA)" || { echo "make cv: set DATA=path/to/arasl.npz" >&2; exit 2; }
	@for k in $(FOLDS); do \
		if [ -f $(CV_OUT)/fold$${k}_metrics.json ]; then \
			echo "fold $$k: $(CV_OUT)/fold$${k}_metrics.json exists, skipped"; \
		else \
			$(MAKE) --no-print-directory fold FOLD=$$k DATA="$(DATA)" || exit 1; \
		fi; \
	done
	$(BIN)/python benchmarks/cv_report.py --folds $(CV_OUT)

# The landmark classifier and its fusion weight with the CNN (models/MODEL_CARD.md, "Landmark
# classifier and fusion"): `make landmark-model DATA=arasl.npz`, after `make model`. Reads the
# hand landmarks of every image first (about 4 minutes on one core; cached in LM_RUN/cache.npz
# and reused), then trains on the shipped split's training blocks (under a minute). The fusion
# weight is chosen on the validation blocks as read by the CNN's stage 1 (RUN/stage1), which,
# unlike the shipped CNN, did not train on them, with the daemon's test-time views
# ([classifier] views; train-landmarks --views). Ship it by copying LM_RUN/landmarks_mlp.tflite
# and .json into models/.
LM_RUN ?= runs/landmarks
landmark-model: $(STAMP)
	@test -n "$(DATA)" || { echo "make landmark-model: set DATA=path/to/arasl.npz" >&2; exit 2; }
	@test -f $(RUN)/stage1/arasl_int8.tflite || { echo "make landmark-model: no $(RUN)/stage1/arasl_int8.tflite (run make model first)" >&2; exit 2; }
	$(BIN)/edge-arasl train-landmarks --data "$(DATA)" --cache $(LM_RUN)/cache.npz --out $(LM_RUN) \
		--choose-with $(RUN)/stage1/arasl_int8.tflite

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .mypy_cache
