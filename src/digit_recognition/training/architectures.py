"""The classifier's Keras architectures: the tutorial's MLP, the reader (a small CNN of the ten
digits) and the gate (digit or not, from the crop and its context).

Both take raw uint8 pixels [N, 28, 28] (white digit on black, as MNIST) and scale them
themselves, so every caller feeds the same thing the model was trained on; core.model loads
and runs what train builds here. TensorFlow is imported lazily, when a model is built.
"""

from digit_recognition.core.decision import DIGIT_CLASSES
from digit_recognition.core.model import GATE_CLASSES, IMAGE_SHAPE, import_tensorflow
from digit_recognition.core.patches import PATCH_CHANNELS


def build_mlp():
    """The tutorial's model: Flatten -> Dense 128 relu -> Dense 128 relu -> Dense 10 softmax
    (digits only, as the tutorial)."""
    import_tensorflow()
    import keras  # noqa: PLC0415

    model = keras.Sequential([
        keras.Input(shape=IMAGE_SHAPE, dtype='float32'),
        keras.layers.Rescaling(1.0 / 255.0),
        keras.layers.Flatten(),
        keras.layers.Dense(128, activation='relu'),
        keras.layers.Dense(128, activation='relu'),
        keras.layers.Dense(DIGIT_CLASSES, activation='softmax'),
    ], name='mnist_mlp')
    model.compile(optimizer='adam', loss='sparse_categorical_crossentropy',
                  metrics=['accuracy'])
    return model


def build_cnn(classes=DIGIT_CLASSES):
    """The reader: a convnet of the ten digits (`classes` outputs), built for speed and
    certainty: ~112k parameters, ~2 M multiply-adds per digit.

    A 5x5 convolution with stride 2 (28 -> 14, 32 channels), then four depthwise-separable
    blocks (a 3x3 depthwise convolution and a 1x1 convolution): 64 channels at 14x14, 128 at
    7x7 (twice) and 256 at 4x4; a softmax layer reads the 4x4x256 features. Striding and
    separable blocks instead of full-resolution 3x3 convolutions are what make it fast: a
    VGG-style CNN of about the same size costs 2.4 ms per batch of five with LiteRT on one
    thread, this one about 0.26 ms (the 36k-parameter network before it 0.07 ms, but too
    unsure of real digits). Batch normalization lets it train on a CPU in minutes.
    """
    import_tensorflow()
    import keras  # noqa: PLC0415
    layers = keras.layers

    def normalized(layer):
        return [layer, layers.BatchNormalization(), layers.ReLU()]

    def separable_block(filters, strides=1):
        return [*normalized(layers.DepthwiseConv2D(3, strides=strides, padding='same',
                                                   use_bias=False)),
                *normalized(layers.Conv2D(filters, 1, use_bias=False))]

    model = keras.Sequential([
        keras.Input(shape=IMAGE_SHAPE, dtype='float32'),
        layers.Rescaling(1.0 / 255.0),
        layers.Reshape((*IMAGE_SHAPE, 1)),
        *normalized(layers.Conv2D(32, 5, strides=2, padding='same', use_bias=False)),
        *separable_block(64),
        *separable_block(128, strides=2),
        *separable_block(128),
        *separable_block(256, strides=2),
        layers.Flatten(),
        layers.Dropout(0.3),
        layers.Dense(classes, activation='softmax'),
    ], name='mnist_cnn')
    model.compile(optimizer='adam', loss='sparse_categorical_crossentropy',
                  metrics=['accuracy'])
    return model


def build_gate(reader):
    """The gate: is this a digit at all? Reads the crop and the ink around it at the ROI's
    scale (core.preprocessing.context), uint8 [N, 28, 28, 3], and gives two probabilities:
    not a digit, a digit.

    What the crop shows it sees through the reader's own convolutions (a copy of the trained
    reader up to its features, frozen: what makes a digit a digit, learned from digits
    alone); what the context shows through a small convnet of its own (a 5x5 convolution
    with stride 2, 16 channels, then depthwise-separable blocks of 32 and 48 channels at 7x7
    and 4x4). Both feed a hidden layer of 32 and a softmax: 160k parameters of its own (most
    in the hidden layer), 228k with the reader's copy.
    """
    import_tensorflow()
    import keras  # noqa: PLC0415
    layers = keras.layers

    def normalized(layer, x):
        return layers.ReLU()(layers.BatchNormalization()(layer(x)))

    def separable_block(filters, strides, x):
        x = normalized(layers.DepthwiseConv2D(3, strides=strides, padding='same',
                                              use_bias=False), x)
        return normalized(layers.Conv2D(filters, 1, use_bias=False), x)

    features = keras.Model(reader.inputs, reader.layers[-3].output, name='reader_features')
    features.trainable = False
    inputs = keras.Input(shape=(*IMAGE_SHAPE, PATCH_CHANNELS), dtype='float32')
    crop_features = features(inputs[..., 0])
    context = layers.Rescaling(1.0 / 255.0)(inputs[..., 1:])
    context = normalized(layers.Conv2D(16, 5, strides=2, padding='same', use_bias=False),
                         context)
    context = separable_block(32, 2, context)
    context = separable_block(48, 2, context)
    x = layers.Concatenate()([crop_features, layers.Flatten()(context)])
    x = layers.Dropout(0.5)(x)
    x = layers.Dense(32, activation='relu')(x)
    outputs = layers.Dense(GATE_CLASSES, activation='softmax')(x)
    model = keras.Model(inputs, outputs, name='digit_gate')
    model.compile(optimizer='adam', loss='sparse_categorical_crossentropy',
                  metrics=['accuracy'])
    return model


def set_random_seed(seed):
    """Seed Python, numpy and TensorFlow (imported only here, once the data has loaded)."""
    import keras  # noqa: PLC0415 - seconds to import
    keras.utils.set_random_seed(seed)


def use_cosine_learning_rate(model, initial, total_steps):
    """Recompile with Adam whose learning rate decays to zero over the run."""
    import keras  # noqa: PLC0415
    schedule = keras.optimizers.schedules.CosineDecay(initial, total_steps)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss=model.loss,
                  metrics=['accuracy'])
