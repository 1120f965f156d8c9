// Uses swiftnst.h from plain C: loads a model, prints its info, runs a forward pass on a
// deterministic image and prints the requested layer's shape and activations.
// Usage: forward WEIGHTS LAYER HEIGHT WIDTH  (image[i] = ((i * 37) % 255) - 127, in model space)
// Output lines: "abi N", "arch A layers L order O", "shape C H W", then C*H*W values one per line.
#include <stdio.h>
#include <stdlib.h>

#include "swiftnst.h"

static int fail(const char * what, nst_status status) {
    fprintf(stderr, "%s: %s: %s\n", what, nst_status_name(status), nst_last_error());
    return 1;
}

int main(int argc, char ** argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s WEIGHTS LAYER HEIGHT WIDTH\n", argv[0]);
        return 2;
    }
    if (nst_abi_version() != NST_ABI_VERSION) {
        fprintf(stderr, "ABI mismatch: library %d, header %d\n", nst_abi_version(), NST_ABI_VERSION);
        return 1;
    }
    printf("abi %d\n", nst_abi_version());

    nst_model * model = NULL;
    nst_status status = nst_model_load_from_file(argv[1], &model);
    if (status != NST_OK) return fail("nst_model_load_from_file", status);

    nst_model_info info;
    status = nst_model_get_info(model, &info);
    if (status != NST_OK) return fail("nst_model_get_info", status);
    printf("arch %d layers %d order %d\n", info.architecture, info.n_layers, info.channel_order);

    const char * layer = argv[2];
    int64_t height = atoll(argv[3]), width = atoll(argv[4]);
    int64_t shape[3];
    status = nst_model_layer_shape(model, layer, height, width, shape);
    if (status != NST_OK) return fail("nst_model_layer_shape", status);
    printf("shape %lld %lld %lld\n", (long long)shape[0], (long long)shape[1], (long long)shape[2]);

    int64_t image_count = 3 * height * width, output_count = shape[0] * shape[1] * shape[2];
    float * image = malloc(sizeof(float) * (size_t)image_count);
    float * output = malloc(sizeof(float) * (size_t)output_count);
    if (image == NULL || output == NULL) return 1;
    for (int64_t i = 0; i < image_count; i++) image[i] = (float)((i * 37) % 255) - 127.0f;

    const char * layers[1] = {layer};
    float * outputs[1] = {output};
    status = nst_model_forward(model, image, image_count, height, width, NST_POOLING_MAX,
                               layers, 1, outputs, &output_count);
    if (status != NST_OK) return fail("nst_model_forward", status);
    for (int64_t i = 0; i < output_count; i++) printf("%.9g\n", output[i]);

    free(image);
    free(output);
    nst_model_free(model);
    nst_model_free(NULL);  // documented as a no-op
    return 0;
}
