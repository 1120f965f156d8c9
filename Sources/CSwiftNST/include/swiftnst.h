// swiftnst.h — the C ABI of the swiftnst neural-style-transfer engine.
//
// This header is the single source of truth for the ABI: the Swift exports in Sources/CBridge
// import it (so the structs and constants below are the ones Swift uses), and the Python module
// swiftnst/_bindings.py mirrors it one declaration at a time.
//
// Conventions
// - Every symbol starts with nst_ / NST_; functions read nst_<object>_<verb>[_<noun>].
// - Only fixed-width integers, float and double cross the boundary.
// - Calls that can fail return nst_status; results are written through trailing out-pointers.
//   On error the out-pointers and caller buffers are left untouched unless stated otherwise, and
//   nst_last_error() describes the failure.
// - Images are float32, C-contiguous, channel-major [channels=3, height, width], already
//   preprocessed into the model's input convention (see nst_model_info). Activations are
//   [channels, height, width]. Every buffer comes with its element count, which is checked.
// - Buffers belong to the caller: the engine reads or writes them during the call only.
//   Opaque handles belong to the engine and are released with their *_free function.
// - Handles are checked against a registry of live handles: a NULL, freed or foreign handle gives
//   NST_ERR_INVALID_HANDLE, never a crash. A handle is an opaque token, not an address (never
//   dereference it): a freed handle stays invalid for good, also after new models or sessions are
//   created, so using or freeing it again never reaches another object.
// - Sizes and counts are checked before any arithmetic that could overflow: sizes whose product, or
//   whose byte size as float32, does not fit in int64_t give NST_ERR_SHAPE (NST_ERR_OUT_OF_MEMORY where
//   stated), never a crash.
// - A model is immutable after loading and may be shared by sessions on several threads.
//   A session must be used by one thread at a time; distinct sessions may run concurrently.
//   A second thread calling into a busy session waits until the first thread's call returns (see
//   nst_progress_callback for calls made from inside a step).

#ifndef SWIFTNST_H
#define SWIFTNST_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

// Marks every public entry point (the exports are public @_cdecl symbols, so it expands to nothing).
#define NST_API

// Incremented on every incompatible change of this header.
#define NST_ABI_VERSION 6

// MARK: - Status codes
// Codes are only ever appended; a retired code stays here, commented out, so its number is never reused.
typedef int32_t nst_status;
#define NST_OK                    0
#define NST_ERR_INVALID_ARGUMENT  1  // a parameter is out of range, NaN/Inf, or inconsistent
#define NST_ERR_NULL_POINTER      2  // a required pointer is NULL
#define NST_ERR_INVALID_HANDLE    3  // NULL, freed or foreign model/session handle
#define NST_ERR_SHAPE             4  // a buffer's element count or an image size does not fit
#define NST_ERR_UNKNOWN_LAYER     5  // a layer name the model does not have
#define NST_ERR_IO                6  // a file could not be opened or read
#define NST_ERR_WEIGHTS_FORMAT    7  // a weights file is malformed, incomplete or holds NaN/Inf
#define NST_ERR_STATE             8  // the call needs something not yet set (e.g. no style image)
#define NST_ERR_CANCELLED         9  // the progress callback asked to stop
#define NST_ERR_OUT_OF_MEMORY    10  // the request needs more memory than the engine will allocate
#define NST_ERR_NUMERIC          11  // the objective became NaN or Inf
#define NST_ERR_INTERNAL         12  // a bug in swiftnst; please report it

// MARK: - Enumerations
#define NST_ARCH_VGG19            0
#define NST_ARCH_VGG16            1

#define NST_CHANNELS_RGB          0
#define NST_CHANNELS_BGR          1

#define NST_POOLING_MAX           0
#define NST_POOLING_AVG           1

#define NST_OPTIMIZER_LBFGS       0
#define NST_OPTIMIZER_ADAM        1

// How L-BFGS stores its correction pairs (nst_session_params.lbfgs_storage).
#define NST_LBFGS_STORAGE_FLOAT32  0
#define NST_LBFGS_STORAGE_BFLOAT16 1

#define NST_OBJECTIVE_NEURAL_STYLE 0
#define NST_OBJECTIVE_COURSERA     1

#define NST_LINE_SEARCH_NONE      0
#define NST_LINE_SEARCH_ARMIJO    1

// The style term (nst_session_params.style_loss; docs/ARCHITECTURE.md, "Objective").
#define NST_STYLE_LOSS_GRAM            0  // Gatys et al.: squared distance of normalised Gram matrices
#define NST_STYLE_LOSS_W2              1  // Wasserstein-2 distance of Gaussians fitted to the features
#define NST_STYLE_LOSS_GRAM_HISTOGRAM  2  // the Gram loss plus Risser et al.'s per-channel histogram loss

// Limits the library enforces (documented here so callers can check early). NST_MAX_IMAGE_SIDE is
// StyleTransferObjective.maxImageSide in the engine, which cannot include this header; a test keeps
// the two equal (and NST_MIN/MAX_ANCHOR_FACTOR PreviewAnchor.factorRange). NST_MAX_LAYER_NAME bounds
// how far the library reads a caller's name string.
#define NST_MAX_IMAGE_SIDE        8192        // pixels, height or width
#define NST_MAX_LAYER_NAME        64          // bytes, including the terminating NUL
#define NST_MIN_ANCHOR_FACTOR     2           // nst_session_set_anchor's factor, when not 0
#define NST_MAX_ANCHOR_FACTOR     1024

// MARK: - Opaque types
typedef struct nst_model nst_model;       // loaded VGG weights; immutable, shareable across threads
typedef struct nst_session nst_session;   // one style-transfer problem: targets, image, optimiser state

// MARK: - Records

// What a model expects as input and what it contains.
// Preprocessing of an RGB image with values in [0, 1]:
//   reorder channels to channel_order, multiply by input_scale, subtract mean, divide by std.
// A loaded model always reads the Caffe range (input_scale 255, std 1; see nst_model_load_from_file).
typedef struct nst_model_info {
    int32_t architecture;   // NST_ARCH_VGG19 or NST_ARCH_VGG16
    int32_t n_layers;       // number of named layers (conv*, relu*, pool*), in network order
    int32_t channel_order;  // NST_CHANNELS_RGB or NST_CHANNELS_BGR
    float   input_scale;    // 255 (the file's 1 for torchvision weights is normalised away on loading)
    float   mean[3];        // per channel, in channel_order, after scaling
    float   std[3];         // per channel, in channel_order; 1 (normalised on loading)
} nst_model_info;

// Losses of one evaluation of the style-transfer objective (each already multiplied by its weight).
// content and style as stated for NST_OBJECTIVE_NEURAL_STYLE; see nst_session_params.objective for
// NST_OBJECTIVE_COURSERA.
typedef struct nst_losses {
    double  total;          // content + style + tv + temporal
    double  content;        // content_weight * sum over content layers of w_l * mean((F_l(x) - F_l(c))^2)
    double  style;          // style_weight * sum over style layers of w_l * mean((G_l(x)/N_l - T_l)^2);
                            // with NST_STYLE_LOSS_W2 style_weight * sum of w_l * W2_l^2 / C_l instead, and
                            // with NST_STYLE_LOSS_GRAM_HISTOGRAM plus histogram_weight * sum over the
                            // histogram layers of w_l * mean((F_l(x) - R_l(F_l(x)))^2) (see style_loss)
    double  tv;             // tv_weight * 0.5 * sum of squared horizontal and vertical neighbour differences
    double  temporal;       // sum over pixels p of w_p * sum over channels of (x - t)^2, over 3*height*width
                            // (nst_session_set_temporal_target; 0 without a temporal target)
    int64_t iteration;      // optimiser steps taken so far in this session
    int64_t evaluations;    // objective evaluations made by nst_session_step so far in this session
                            // (nst_session_evaluate does not count)
} nst_losses;

// Options of a session. Get defaults from nst_session_default_params() and change what you need.
// Weights follow jcjohnson/neural-style for Caffe-lineage (0..255) inputs, the range every model is loaded
// to read (see nst_model_load_from_file), so they suit every model. The defaults stated below
// are those nst_session_default_params() returns (a test compares the two).
typedef struct nst_session_params {
    int64_t height;         // generated image height in pixels, 1..NST_MAX_IMAGE_SIDE (default 256)
    int64_t width;          // generated image width in pixels, 1..NST_MAX_IMAGE_SIDE (default 256)
    int32_t pooling;        // NST_POOLING_MAX (default) or NST_POOLING_AVG
    int32_t optimizer;      // NST_OPTIMIZER_LBFGS (default) or NST_OPTIMIZER_ADAM
    int32_t objective;      // NST_OBJECTIVE_NEURAL_STYLE (default) or NST_OBJECTIVE_COURSERA: what the
                            // content and style weights multiply. Neural-style: the means of nst_losses.
                            // Coursera (the "Art generation" assignment): content_weight * sum over
                            // content layers of w_l * sum((F_l(x) - F_l(c))^2) / (4 C H W), and
                            // style_weight * sum over style layers of w_l * sum((G_l(x) - G_l(s))^2) /
                            // (4 C^2 (H W)^2) (a style image of another size enters by its Gram matrix
                            // per position, G_l(s) / (H_s W_s) * (H W)); tv as for neural-style.
                            // With masks or regions (nst_session_set_masks) each term is the masked
                            // neural-style term times the same factor (1/4 content, C^2/4 style).
    float   content_weight; // >= 0, default 5
    float   style_weight;   // >= 0, default 100
    float   tv_weight;      // >= 0, default 1e-3
    // The optimiser options below are read, and validated, only for the optimiser selected:
    // learning_rate and adam_* for NST_OPTIMIZER_ADAM, lbfgs_* for NST_OPTIMIZER_LBFGS.
    float   learning_rate;  // Adam step size in model input units, > 0, default 10
    float   adam_beta1;     // in [0, 1), default 0.9
    float   adam_beta2;     // in [0, 1), default 0.999
    float   adam_epsilon;   // > 0, default 1e-8
    int32_t lbfgs_history;  // L-BFGS correction pairs kept, >= 1, default 100
    int32_t lbfgs_storage;  // NST_LBFGS_STORAGE_FLOAT32 (default) or NST_LBFGS_STORAGE_BFLOAT16: the pairs
                            // rounded to bfloat16, half their memory (float32 is torch optim.lbfgs's path)
    int32_t lbfgs_line_search; // NST_LINE_SEARCH_NONE (default) takes each move whole, as neural-style;
                            // NST_LINE_SEARCH_ARMIJO shortens a move (backtracking) until the loss falls
                            // enough, so a step may evaluate more than once (nst_losses.evaluations) and
                            // reports the losses of the image it moved to
    int32_t n_threads;      // worker threads for this session's calls, >= 0, 0 = one per core (default 0);
                            // per session: sessions with different counts may run one after the other
                            // or concurrently, each with its own. Calls without a session
                            // (nst_model_forward, tutorial costs, layer operations) use one per core.
    int32_t normalize_gradients; // 0 or 1, default 0: as jcjohnson/neural-style's -normalize_gradients,
                            // each content and style layer's gradient is divided by its L1 norm (plus
                            // 1e-8) before its weight multiplies it; the losses reported are unchanged.
                            // Needs the whole-image evaluation (NST_ERR_STATE with strips).
    int32_t style_loss;     // NST_STYLE_LOSS_GRAM (default), NST_STYLE_LOSS_W2 or NST_STYLE_LOSS_GRAM_HISTOGRAM.
                            // W2: the squared Wasserstein-2 distance between Gaussians fitted to the layer's
                            // features (mean mu, covariance S over positions) and to the style's,
                            // |mu - mu_s|^2 + tr(S + S_s - 2 (S_s^1/2 S S_s^1/2)^1/2), divided by C, with
                            // 1e-4 * the style's mean channel variance added to both covariances' diagonals;
                            // several style images blend their means and second moments. GRAM_HISTOGRAM: the
                            // Gram term plus, at the histogram layers (nst_session_set_histogram_layers),
                            // mean((F - R(F))^2) with R mapping each channel's values, by rank, onto the
                            // style's quantiles (blended over style images), R(F) held constant in the gradient.
                            // Only NST_STYLE_LOSS_GRAM combines with normalize_gradients, NST_OBJECTIVE_COURSERA
                            // (NST_ERR_INVALID_ARGUMENT at nst_session_create) and style masks
                            // (NST_ERR_INVALID_ARGUMENT from nst_session_add_style_image_masked with a mask or
                            // region, and from nst_session_set_masks with a style mask); the content mask works
                            // with every style loss.
    float   histogram_weight; // >= 0, default 100; the histogram term's weight (NST_STYLE_LOSS_GRAM_HISTOGRAM)
} nst_session_params;

// Called after every optimiser step with the losses of that step, on the thread that called
// nst_session_step. Return 0 to continue, non-zero to stop: nst_session_step then returns
// NST_ERR_CANCELLED and the session keeps the image and best image reached so far.
// Re-entrancy: the callback may call any nst_ function. On the session being stepped:
// - reads work and see the state after this step: nst_session_get_image, nst_session_get_best_image,
//   nst_session_predict_peak_bytes, nst_session_state_size, nst_session_save_state (and every
//   nst_model_* function, on any model);
// - calls that change the session (nst_session_set_content_layers, nst_session_set_style_layers,
//   nst_session_set_histogram_layers, nst_session_set_content_image, nst_session_add_style_image,
//   nst_session_add_style_image_masked, nst_session_set_masks, nst_session_clear_style_images,
//   nst_session_evaluate, nst_session_set_image, nst_session_step, nst_session_set_strips,
//   nst_session_set_anchor, nst_session_set_temporal_target, nst_session_load_state) return
//   NST_ERR_STATE ("not allowed inside this session's progress callback") and change nothing;
// - nst_session_free is deferred: the handle is invalid at once (later calls with it, also in this
//   callback, give NST_ERR_INVALID_HANDLE), the step stops after the current step and returns
//   NST_ERR_CANCELLED, and the session's memory is released before nst_session_step returns.
// Other sessions may be used freely (each has its own lock). Another thread calling into the session
// being stepped waits until nst_session_step returns (one thread at a time), so a callback must not
// wait for such a thread: that would deadlock.
typedef int32_t (*nst_progress_callback)(const nst_losses * losses, void * user_data);

// MARK: - Version

// Returns NST_ABI_VERSION of the library actually loaded; bindings refuse a mismatch.
NST_API int32_t nst_abi_version(void);

// Returns the library's version as a static NUL-terminated string, e.g. "0.1.0".
NST_API const char * nst_version_string(void);

// Returns a static NUL-terminated description of the BLAS in use and the kernels it selected for this
// CPU, e.g. "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY SkylakeX MAX_THREADS=64; core SkylakeX".
// OpenBLAS picks its kernels when it is loaded, from OPENBLAS_CORETYPE if set, else from the CPU.
NST_API const char * nst_blas_info(void);

// MARK: - Diagnostics

// Returns the message of the last failed nst_ call on this thread ("" if none).
// The pointer stays valid until the next nst_ call on the same thread.
NST_API const char * nst_last_error(void);

// Returns a static name for a status code, e.g. "NST_ERR_SHAPE"; "NST_UNKNOWN_STATUS" for others.
NST_API const char * nst_status_name(nst_status status);

// MARK: - Model

// Loads a model from a swiftnst weights file (safetensors with swiftnst metadata; the file is
// memory-mapped and validated: architecture, every layer's shape, finiteness of every value).
// path: NUL-terminated UTF-8. On success *model_out receives a handle to free with nst_model_free.
// Every model is loaded reading the Caffe input range (pixels 0..255 minus the mean, std 1), so that one
// set of loss weights and learning rate fits every model: weights whose file convention differs (std-
// normalised torchvision inputs) are rescaled exactly, k_c = 255 * std_c / input_scale per channel and
// a = the geometric mean of the k_c (57.63 for torchvision): conv1_1's input channel c is divided by k_c,
// conv1_1's weights and every bias are multiplied by a. nst_model_info then reports input_scale 255,
// mean 255 * mean_c / input_scale, std 1, and every activation is a times the file's network's.
// Caffe-convention files (std 1 at input_scale 255) are loaded as they are. A value that overflows float
// once rescaled is NST_ERR_WEIGHTS_FORMAT.
// Returns NST_OK, NST_ERR_NULL_POINTER, NST_ERR_IO, NST_ERR_WEIGHTS_FORMAT or NST_ERR_OUT_OF_MEMORY.
NST_API nst_status nst_model_load_from_file(const char * path, nst_model ** model_out);

// Frees a model. NULL, or a handle already freed, is ignored. Sessions created from the model
// keep their own reference, so a model may be freed before its sessions.
NST_API void nst_model_free(nst_model * model);

// Fills *info_out. Returns NST_OK, NST_ERR_INVALID_HANDLE or NST_ERR_NULL_POINTER.
NST_API nst_status nst_model_get_info(const nst_model * model, nst_model_info * info_out);

// Sets *name_out to the NUL-terminated name of layer `index` (0 <= index < n_layers), e.g.
// "conv1_1", "relu1_1", "pool1". The string is owned by the model and lives as long as it does.
// Returns NST_OK, NST_ERR_INVALID_HANDLE, NST_ERR_NULL_POINTER or NST_ERR_INVALID_ARGUMENT.
NST_API nst_status nst_model_layer_name(const nst_model * model, int32_t index, const char ** name_out);

// Writes the activation shape [channels, height, width] of `layer` for an input of height x width.
// Returns NST_OK, NST_ERR_INVALID_HANDLE, NST_ERR_NULL_POINTER, NST_ERR_INVALID_ARGUMENT (`layer`
// is NST_MAX_LAYER_NAME bytes or longer, or not UTF-8), NST_ERR_UNKNOWN_LAYER or NST_ERR_SHAPE
// (also when the input is too small for the pooling layers before `layer` to leave any pixel).
NST_API nst_status nst_model_layer_shape(const nst_model * model, const char * layer,
                                         int64_t height, int64_t width, int64_t shape_out[3]);

// Runs the network on one preprocessed image and copies the activations of n_layers named layers.
// image: float32 [3, height, width], image_count == 3*height*width.
// layers: n_layers NUL-terminated names (1 <= n_layers <= n_layers of the model).
// outputs[i]: float32 buffer of output_counts[i] elements, which must equal C*H*W of layers[i]
//   (see nst_model_layer_shape). The network runs only as deep as the deepest requested layer.
// pooling: NST_POOLING_MAX or NST_POOLING_AVG.
// Returns NST_OK, NST_ERR_INVALID_HANDLE, NST_ERR_NULL_POINTER, NST_ERR_INVALID_ARGUMENT,
// NST_ERR_SHAPE (wrong counts, or an image too small for the deepest requested layer),
// NST_ERR_UNKNOWN_LAYER or NST_ERR_OUT_OF_MEMORY; outputs are untouched on error.
NST_API nst_status nst_model_forward(const nst_model * model, const float * image, int64_t image_count,
                                     int64_t height, int64_t width, int32_t pooling,
                                     const char * const * layers, int32_t n_layers,
                                     float * const * outputs, const int64_t * output_counts);

// MARK: - Params

// Returns the default session options (see nst_session_params).
NST_API nst_session_params nst_session_default_params(void);

// MARK: - Session lifecycle

// Creates a session for `model` with `params` (copied). The session starts with content layer
// relu4_2 (weight 1) and style layers relu1_1, relu2_1, relu3_1, relu4_1, relu5_1 (weight 1 each),
// no content or style targets, and an all-zero image.
// Returns NST_OK, NST_ERR_INVALID_HANDLE, NST_ERR_NULL_POINTER, NST_ERR_INVALID_ARGUMENT (also when
// height x width is too small for the default layers: a bad parameter here, where nst_model_layer_shape
// and nst_model_forward report NST_ERR_SHAPE) or NST_ERR_OUT_OF_MEMORY. On success *session_out
// receives a handle to free with nst_session_free.
NST_API nst_status nst_session_init(const nst_model * model, const nst_session_params * params,
                                    nst_session ** session_out);

// Frees a session. NULL, or a handle already freed, is ignored. Called from the session's own progress
// callback (or, against the one-thread rule, from another thread during nst_session_step), the handle
// is invalid at once and the running step stops after its current step (NST_ERR_CANCELLED) and then
// releases the session; see nst_progress_callback.
NST_API void nst_session_free(nst_session * session);

// MARK: - Inputs
// Every function below that changes a session also returns NST_ERR_STATE when called from inside that
// session's progress callback (see nst_progress_callback); the session is then unchanged.

// Replaces the content layers. names: n NUL-terminated layer names; weights: n finite values >= 0.
// n == 0 removes the content term. Clears the content target (set the content image again).
// Returns NST_OK, NST_ERR_INVALID_HANDLE, NST_ERR_NULL_POINTER, NST_ERR_INVALID_ARGUMENT,
// NST_ERR_UNKNOWN_LAYER or NST_ERR_SHAPE (the session's size is too small for a layer); on error the
// session is unchanged. The other target is kept as computed (no image is kept or re-evaluated).
NST_API nst_status nst_session_set_content_layers(nst_session * session, const char * const * names,
                                                  const float * weights, int32_t n);

// Replaces the style layers, like nst_session_set_content_layers; clears all style images.
NST_API nst_status nst_session_set_style_layers(nst_session * session, const char * const * names,
                                                const float * weights, int32_t n);

// Replaces the histogram layers of NST_STYLE_LOSS_GRAM_HISTOGRAM (default relu1_1 and relu4_1, weight 1
// each, as Risser et al.), like nst_session_set_style_layers; clears all style images. With another
// style loss the names are checked but not used.
NST_API nst_status nst_session_set_histogram_layers(nst_session * session, const char * const * names,
                                                    const float * weights, int32_t n);

// Sets the content target from a preprocessed image of the session's size.
// image: float32 [3, params.height, params.width], image_count == 3*height*width.
// Returns NST_OK, NST_ERR_INVALID_HANDLE, NST_ERR_NULL_POINTER, NST_ERR_SHAPE, NST_ERR_NUMERIC
// (NaN/Inf in the image) or NST_ERR_OUT_OF_MEMORY.
NST_API nst_status nst_session_set_content_image(nst_session * session, const float * image,
                                                 int64_t image_count);

// Adds a style image of any size (float32 [3, height, width]) with a blend weight > 0.
// The style target of each layer is the blend-weighted mean of the normalised Gram matrices
// G_l / N_l (N_l = C*H*W of that layer) of all style images added.
// Returns NST_OK, NST_ERR_INVALID_HANDLE, NST_ERR_NULL_POINTER, NST_ERR_SHAPE (a count that does not
// match, a side outside 1..NST_MAX_IMAGE_SIDE, or an image too small for the deepest style layer),
// NST_ERR_INVALID_ARGUMENT (blend_weight), NST_ERR_NUMERIC (NaN/Inf in the image) or NST_ERR_OUT_OF_MEMORY.
NST_API nst_status nst_session_add_style_image(nst_session * session, const float * image,
                                               int64_t image_count, int64_t height, int64_t width,
                                               float blend_weight);

// Removes all style images. Returns NST_OK or NST_ERR_INVALID_HANDLE.
NST_API nst_status nst_session_clear_style_images(nst_session * session);

// MARK: - Spatial control (Gatys et al. 2017, "Controlling Perceptual Factors in Neural Style Transfer")
// A mask is float32 [height, width], values in [0, 1]. At each layer it is averaged over the 2x2 blocks
// of every pooling before that layer (so a deep layer sees the share of each position its mask covers).
// A term measured over a mask uses the Gram matrix G = sum_p m_p f_p f_p^T of the positions p, normalised
// by N = C * sum_p m_p (the mask's mass) instead of C*H*W: the statistics of the region, whatever its size.
// Masks need the whole-image evaluation: nst_session_evaluate and nst_session_step return NST_ERR_STATE
// with strips (nst_session_set_strips). A session without masks computes exactly as before.

// Like nst_session_add_style_image, with two optional masks (NULL: none, the count is then ignored):
// mask: [height, width] of the style image (e.g. its alpha), mask_count == height*width: its Gram
// matrices are taken over the positions it covers (it must cover some position at every style layer);
// region: [params.height, params.width] of the generated image, region_count == params.height*params.width:
// this style gets its own style term, matched over that region only and multiplied by blend_weight (not
// blended with the other images). Styles without a region are blended as nst_session_add_style_image
// says and matched over the session's style mask (nst_session_set_masks).
// Returns as nst_session_add_style_image, plus NST_ERR_INVALID_ARGUMENT (a mask value not finite or outside
// [0, 1], a style mask covering nothing at a style layer, a mask or region with a style_loss other than
// NST_STYLE_LOSS_GRAM) and NST_ERR_STATE (a mask with strips); on error the session is unchanged.
NST_API nst_status nst_session_add_style_image_masked(nst_session * session, const float * image,
                                                      int64_t image_count, int64_t height, int64_t width,
                                                      float blend_weight, const float * mask, int64_t mask_count,
                                                      const float * region, int64_t region_count);

// Sets the generated image's masks, each NULL (none: all ones) or float32 [params.height, params.width]
// with count == params.height*params.width: content_mask weights the content term per position
// (content_weight * sum_l w_l * sum m_p (F_l(x) - F_l(c))^2 / (C*H*W), e.g. the content's alpha);
// style_mask is the region the styles added without their own region are matched over. Replaces the
// masks set before; targets are kept. Resets the optimiser and the best image.
// Returns NST_OK, NST_ERR_INVALID_HANDLE, NST_ERR_SHAPE (a count) or NST_ERR_INVALID_ARGUMENT (a value not
// finite or outside [0, 1], or a style mask with a style_loss other than NST_STYLE_LOSS_GRAM); on error
// the session is unchanged.
NST_API nst_status nst_session_set_masks(nst_session * session, const float * content_mask,
                                         int64_t content_mask_count, const float * style_mask,
                                         int64_t style_mask_count);

// MARK: - Optimisation

// Evaluates the objective at `image` (float32 [3, height, width] of the session's size) without
// changing the session's image or optimiser state. gradient_out may be NULL; otherwise it receives
// d(total)/d(image), gradient_count elements == image_count. losses_out may be NULL.
// Needs a content target if the content weight and layers are non-zero, and a style image if the
// style weight and layers are non-zero (NST_ERR_STATE otherwise).
// Returns NST_OK, NST_ERR_INVALID_HANDLE, NST_ERR_NULL_POINTER, NST_ERR_SHAPE, NST_ERR_STATE,
// NST_ERR_NUMERIC (NaN/Inf in the image, or a loss that is not finite) or NST_ERR_OUT_OF_MEMORY.
NST_API nst_status nst_session_evaluate(nst_session * session, const float * image, int64_t image_count,
                                        float * gradient_out, int64_t gradient_count,
                                        nst_losses * losses_out);

// Sets the image to optimise (float32 [3, height, width]) and resets the optimiser state and the
// best image. Returns NST_OK, NST_ERR_INVALID_HANDLE, NST_ERR_NULL_POINTER, NST_ERR_SHAPE or
// NST_ERR_NUMERIC (NaN/Inf in the image).
NST_API nst_status nst_session_set_image(nst_session * session, const float * image, int64_t image_count);

// Runs n_steps optimiser steps (one objective evaluation each, as neural-style's L-BFGS without line
// search; with NST_LINE_SEARCH_ARMIJO a step evaluates again when it shortens its move, and the first
// step also evaluates the image it starts from) on the session's image. callback may be NULL; it is called after every step.
// losses_out may be NULL; otherwise it receives the losses of the last step taken.
// The best image (lowest total loss seen) is tracked across steps.
// Returns NST_OK, NST_ERR_INVALID_HANDLE, NST_ERR_INVALID_ARGUMENT (n_steps < 0), NST_ERR_STATE,
// NST_ERR_CANCELLED (the callback asked to stop, or the session was freed during the step),
// NST_ERR_NUMERIC or NST_ERR_OUT_OF_MEMORY. After NST_ERR_CANCELLED or NST_ERR_NUMERIC the session
// still holds the last finite image and the best image.
NST_API nst_status nst_session_step(nst_session * session, int32_t n_steps,
                                    nst_progress_callback callback, void * user_data,
                                    nst_losses * losses_out);

// MARK: - Outputs

// Copies the current image into image_out (float32 [3, height, width], image_count elements).
// Returns NST_OK, NST_ERR_INVALID_HANDLE, NST_ERR_NULL_POINTER or NST_ERR_SHAPE.
NST_API nst_status nst_session_get_image(const nst_session * session, float * image_out, int64_t image_count);

// Copies the image with the lowest total loss seen since nst_session_set_image into image_out,
// and its losses into losses_out (may be NULL). Before any step (since nst_session_set_image or a
// change of layers or targets) this is the image that was set and its losses are NaN, since none
// has been evaluated; iteration and evaluations are still the session's counts.
// Returns NST_OK, NST_ERR_INVALID_HANDLE, NST_ERR_NULL_POINTER or NST_ERR_SHAPE.
NST_API nst_status nst_session_get_best_image(const nst_session * session, float * image_out,
                                              int64_t image_count, nst_losses * losses_out);

// MARK: - Tutorial costs
// The cost functions of the Coursera-style tutorial, on activations [channels, height, width].

// Writes the Gram matrix F F^T of features [channels, n_positions] into gram_out
// (float32 [channels, channels], gram_count == channels*channels).
// Returns NST_OK, NST_ERR_NULL_POINTER, NST_ERR_SHAPE or NST_ERR_OUT_OF_MEMORY.
NST_API nst_status nst_gram_matrix(const float * features, int64_t channels, int64_t n_positions,
                                   float * gram_out, int64_t gram_count);

// *cost_out = sum((a_c - a_g)^2) / (4 * n_H * n_W * n_C), accumulated in double.
// Returns NST_OK, NST_ERR_NULL_POINTER or NST_ERR_SHAPE.
NST_API nst_status nst_content_cost(const float * a_c, const float * a_g, int64_t channels,
                                    int64_t height, int64_t width, double * cost_out);

// *cost_out = sum((Gram(a_s) - Gram(a_g))^2) / (4 * n_C^2 * (n_H * n_W)^2), accumulated in double.
// Returns NST_OK, NST_ERR_NULL_POINTER, NST_ERR_SHAPE or NST_ERR_OUT_OF_MEMORY (the two channels x
// channels Gram matrices do not fit in memory, or their size overflows).
NST_API nst_status nst_layer_style_cost(const float * a_s, const float * a_g, int64_t channels,
                                        int64_t height, int64_t width, double * cost_out);

// MARK: - Layer operations [EXPERIMENTAL]
// Single layers with their backward passes, for verification against independent references.
// Tensors are float32 C-contiguous; every count is checked against the shapes.
// Each returns NST_OK, NST_ERR_NULL_POINTER or NST_ERR_SHAPE (a size < 1, a side above
// NST_MAX_IMAGE_SIDE, sizes whose product or byte size overflows, a count that does not match); the convolutions
// also NST_ERR_OUT_OF_MEMORY (weights too large to copy), the poolings also NST_ERR_INVALID_ARGUMENT
// (pooling code). The elementwise ReLUs accept count == 0 (and refuse counts whose byte size overflows).

// 3x3 convolution, stride 1, zero padding 1: output [out_channels, height, width] =
// conv(input [in_channels, height, width], weight [out_channels, in_channels, 3, 3]) + bias [out_channels].
NST_API nst_status nst_op_conv3x3_forward(const float * input, int64_t in_channels, int64_t height,
                                          int64_t width, const float * weight, const float * bias,
                                          int64_t out_channels, float * output, int64_t output_count);

// Gradient of the convolution with respect to its input: grad_input [in_channels, height, width]
// from grad_output [out_channels, height, width] and weight [out_channels, in_channels, 3, 3].
NST_API nst_status nst_op_conv3x3_backward_input(const float * grad_output, int64_t out_channels,
                                                 int64_t height, int64_t width, const float * weight,
                                                 int64_t in_channels, float * grad_input,
                                                 int64_t grad_input_count);

// ReLU on count elements, and its backward: grad_input = grad_output where input > 0, else 0.
NST_API nst_status nst_op_relu_forward(const float * input, float * output, int64_t count);
NST_API nst_status nst_op_relu_backward(const float * input, const float * grad_output,
                                        float * grad_input, int64_t count);

// 2x2 pooling, stride 2 (NST_POOLING_MAX or NST_POOLING_AVG); odd trailing rows/columns are dropped.
// output: [channels, height/2, width/2]; grad_input: [channels, height, width] (dropped cells get 0;
// max pooling routes the gradient to the first maximum of each window in row-major order).
NST_API nst_status nst_op_pool2x2_forward(int32_t pooling, const float * input, int64_t channels,
                                          int64_t height, int64_t width, float * output,
                                          int64_t output_count);
NST_API nst_status nst_op_pool2x2_backward(int32_t pooling, const float * input, int64_t channels,
                                           int64_t height, int64_t width, const float * grad_output,
                                           int64_t grad_output_count, float * grad_input,
                                           int64_t grad_input_count);

// Gradient of a scalar L(G) with G = F F^T: grad_features [channels, n_positions] =
// (grad_gram + grad_gram^T) F, from features [channels, n_positions] and grad_gram [channels, channels].
NST_API nst_status nst_op_gram_backward(const float * features, int64_t channels, int64_t n_positions,
                                        const float * grad_gram, float * grad_features,
                                        int64_t grad_features_count);

// MARK: - Large renders: strip evaluation and memory prediction

// Chooses how the session evaluates the network. split_layer NULL = the whole image at once (the
// default; fastest; strip_rows is then ignored). Otherwise the layers up to and including split_layer, a pooling layer
// of the model ("pool1".."pool5"), run on horizontal strips of strip_rows image rows, each extended by
// the halo the layers need, and the deeper layers on the whole image: losses and gradient equal the
// whole-image ones to float rounding (about 1e-5 of the gradient's largest value), while memory is
// bounded by one strip's window of the shallow layers. strip_rows must be > 0 and a multiple of the
// split's alignment, 2^(pooling layers up to split_layer + 1), i.e. 4, 8, 16, 32, 64 for pool1..pool5,
// and at most NST_MAX_IMAGE_SIDE (rows >= the image height make one strip).
// Targets, image and optimiser state are kept (the values do not change).
// Returns NST_OK, NST_ERR_INVALID_HANDLE, NST_ERR_INVALID_ARGUMENT (split_layer not a pooling layer,
// longer than NST_MAX_LAYER_NAME - 1 bytes or not UTF-8; strip_rows negative, or with a split layer
// 0, above NST_MAX_IMAGE_SIDE or not a multiple of the alignment) or NST_ERR_UNKNOWN_LAYER; on error
// the session is unchanged.
NST_API nst_status nst_session_set_strips(nst_session * session, const char * split_layer, int64_t strip_rows);

// Predicts the bytes one nst_session_step holds at its peak for the session's size, layers, weights,
// optimiser and style images (at least one assumed), evaluated as split_layer/strip_rows would choose
// (same meaning and checks as nst_session_set_strips; it does not change the session), with
// lbfgs_history full L-BFGS correction pairs (0 = the session's history; ignored for Adam). Counted:
// the network evaluation's buffers, the transformed convolution kernels the model builds on first use
// (shared by its sessions), targets, image-sized arrays and the optimiser's arrays. Not counted: the
// process baseline, the model's weights and allocator overhead.
// Returns NST_OK, NST_ERR_INVALID_HANDLE, NST_ERR_NULL_POINTER (bytes_out), NST_ERR_INVALID_ARGUMENT
// (as nst_session_set_strips; lbfgs_history < 0, or so large the total overflows) or
// NST_ERR_UNKNOWN_LAYER.
NST_API nst_status nst_session_predict_peak_bytes(const nst_session * session, const char * split_layer,
                                                  int64_t strip_rows, int64_t lbfgs_history,
                                                  int64_t * bytes_out);

// Adds the preview anchor to the objective: the same objective (layers, weights) at the size
// height/factor x width/factor, evaluated on the image averaged over factor x factor blocks, against
// content and style targets made the same way from the images given later, times weight; 0 removes it.
// Its losses are added to the session's and its gradient is spread back over each block. A multi-scale
// render sets it on its large scales so that they keep the look found at the preview size
// (docs/ARCHITECTURE.md, "Large renders"). Style images must then be at least factor on each side
// (rows and columns past the last whole block are left out). Call it before
// nst_session_set_content_image and nst_session_add_style_image(_masked); masks and regions, set before or
// after, are averaged over the same blocks. Resets the optimiser and the best image.
// nst_session_predict_peak_bytes counts it.
// Returns NST_OK, NST_ERR_INVALID_HANDLE, NST_ERR_INVALID_ARGUMENT (factor not 0 and outside
// NST_MIN_ANCHOR_FACTOR..NST_MAX_ANCHOR_FACTOR; weight not finite or <= 0), NST_ERR_SHAPE (factor does
// not divide the session's height and width, or the preview is too small for the layers) or
// NST_ERR_STATE (a content or style image is already set); on error the session is unchanged.
NST_API nst_status nst_session_set_anchor(nst_session * session, int64_t factor, float weight);

// MARK: - Video: temporal consistency

// Adds the temporal-consistency term of video style transfer (Ruder et al. 2016):
//   temporal = (1 / (3*height*width)) * sum over pixels p of weights[p] * sum over channels c of
//              (x[c,p] - target[c,p])^2
// target: float32 [3, height, width] of the session's size, in the model's input space (the previous
// frame's result warped to this frame by optical flow); weights: float32 [height, width], each finite and
// >= 0: the term's weight where the flow is reliable, 0 where it is not (occlusions, motion boundaries).
// The term's weight is part of weights (the engine has no default for it). Its loss is reported in
// nst_losses.temporal and added to total; its gradient to the objective's. target and weights both
// NULL remove the term; a new target replaces the last one. Resets the optimiser and the best image.
// nst_session_predict_peak_bytes counts it.
// Returns NST_OK, NST_ERR_INVALID_HANDLE, NST_ERR_INVALID_ARGUMENT (one of target and weights NULL,
// a negative weight), NST_ERR_SHAPE (a count that does not match), NST_ERR_NUMERIC (NaN/Inf in either)
// or NST_ERR_OUT_OF_MEMORY; on error the session is unchanged.
NST_API nst_status nst_session_set_temporal_target(nst_session * session, const float * target,
                                                   int64_t target_count, const float * weights,
                                                   int64_t weights_count);

// MARK: - Session state (checkpoints)

// A session's optimisation state as bytes, so a run can stop and continue later with bitwise the same
// steps (same library, machine and n_threads): the image, the best image and its losses, the iteration
// and evaluation counters and the optimiser's state (L-BFGS: iteration, previous gradient and step, the
// s/y pairs, rho, the H-diagonal scale; Adam: the moments and step count). Not included: the params,
// layers, targets, masks, the temporal target, the anchor and strips, which the caller sets up as before
// loading. The layout is versioned and
// self-describing (magic "SWNSTST1", format version, optimiser kind, image size, counts; little-endian;
// documented in Sources/NSTEngine/State/StyleTransferSession+State.swift).

// Writes the size in bytes of the session's current state (it grows as L-BFGS collects pairs).
// Returns NST_OK, NST_ERR_INVALID_HANDLE or NST_ERR_NULL_POINTER.
NST_API nst_status nst_session_state_size(const nst_session * session, int64_t * bytes_out);

// Writes the state into buffer, which must hold exactly nst_session_state_size bytes.
// Returns NST_OK, NST_ERR_INVALID_HANDLE, NST_ERR_NULL_POINTER or NST_ERR_SHAPE (size differs);
// the buffer is untouched on error.
NST_API nst_status nst_session_save_state(const nst_session * session, void * buffer, int64_t size);

// Replaces the session's state by the size bytes at buffer, written by nst_session_save_state of a
// session with the same params (size, optimiser and its parameters). Call it after setting layers,
// images, masks and the temporal target, which reset the optimiser. Everything is validated before
// anything changes.
// Returns NST_OK, NST_ERR_INVALID_HANDLE, NST_ERR_NULL_POINTER, NST_ERR_SHAPE (size < 0, or a state for
// another image size) or NST_ERR_INVALID_ARGUMENT (not a session state, another format version or
// optimiser, a parameter that differs from the session's, truncated, trailing bytes, a count out of
// range (counters are at most 2^53), NaN/Inf); the session is unchanged on error.
NST_API nst_status nst_session_load_state(nst_session * session, const void * buffer, int64_t size);

#ifdef __cplusplus
}
#endif

#endif // SWIFTNST_H
