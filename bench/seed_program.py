"""The seed blog's program, as faithfully as today's NumPy and SciPy allow: the reference for speed.

What it is: the blog's ``NeuralNetwork`` class and its training and test loops, unchanged except for
removed APIs and file paths:

- ``np.float`` (removed in NumPy 1.24) -> ``float`` (the same float64);
- ``scipy.ndimage.interpolation.rotate`` (removed in SciPy 1.14 or so) -> ``scipy.ndimage.rotate``
  (the same function), and an explicit ``import scipy.ndimage`` (the blog relied on another import
  having loaded it);
- the CSV paths are parameters (the blog reads ``neuralnetwork/mnist_dataset/mnist_*.csv``);
- the epoch count is a parameter (the blog's is 5), and each epoch is timed with ``time.perf_counter``;
- the unused imports (pandas, matplotlib, scipy.stats) and the custom-image part are left out.

Everything else, the per-record ``split(',')`` parsing inside the epoch loop included, is the blog's.
``np.random.seed(80)`` is called right before the network is made, as the blog's top-level call is.

Run it alone (it needs the full CSV files; ``bench/seed_vs_ann.py`` writes them into bench/out/)::

    python bench/seed_program.py --train bench/out/mnist_train.csv --test bench/out/mnist_test.csv --epochs 1
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.ndimage  # the blog calls scipy.ndimage.interpolation.rotate without importing it
import scipy.special


### neural network class definition ###
class NeuralNetwork:
    ### initialise the neural network elements
    def __init__(self, input_nodes, hidden_nodes, output_nodes, learning_rate):
        self.i_nodes = input_nodes
        self.h_nodes = hidden_nodes
        self.o_nodes = output_nodes
        self.lr = learning_rate
        self.wih = np.random.normal(0.0, pow(self.h_nodes, -0.5), (self.h_nodes, self.i_nodes))
        self.who = np.random.normal(0.0, pow(self.o_nodes, -0.5), (self.o_nodes, self.h_nodes))
        # activation function is the sigmoid function
        self.activation_function = lambda x: scipy.special.expit(x)

    ### training the neural network
    def train(self, inputs_list, targets_list):
        # convert the list to 2d array, because the each layer of data format must be 2D
        inputs = np.array(inputs_list, ndmin = 2).T
        targets = np.array(targets_list, ndmin = 2).T
        # calculate the signals into hidden layer
        hidden_inputs = np.dot(self.wih, inputs)
        # calculate the signals emerging from hidden layer
        hidden_outputs = self.activation_function(hidden_inputs)
        # calculate the signals into output layer
        final_inputs = np.dot(self.who, hidden_outputs)
        # calculate the signals emerging from final layer
        final_outputs = self.activation_function(final_inputs)
        # error is the (target - actual):
        output_errors = targets - final_outputs
        # hidden layer error is the output_errors, split by weights, recombined at hidden nodes
        hidden_errors = np.dot(self.who.T, output_errors)
        # update the weights for the links between the hidden and output layers
        self.who += self.lr * np.dot((output_errors * final_outputs * (1.0 - final_outputs)), np.transpose(hidden_outputs))
        # update the weights for the links between the hidden and input layers
        self.wih += self.lr * np.dot((hidden_errors * hidden_outputs * (1.0 - hidden_outputs)), np.transpose(inputs))

    ### query the neural network
    def query(self, inputs_list):
        # covert inputs list to 2d array
        inputs = np.array(inputs_list, ndmin = 2).T
        # calculate signals into hidden layer
        hidden_inputs = np.dot(self.wih, inputs)
        # calculate signals emerging from hidden layer
        hidden_outputs = self.activation_function(hidden_inputs)
        # calculate signals into output layer
        final_inputs = np.dot(self.who, hidden_outputs)
        # calculate signals emerging from output layer
        final_outputs = self.activation_function(final_inputs)
        return final_outputs


def run(train_csv, test_csv, epochs=5, on_epoch=None, limit=None):
    """The blog's training and test code; returns (network, seconds per epoch, test accuracy in %).

    ``on_epoch(e, seconds)`` is called after every epoch. ``limit`` trains on the first N lines only
    (for the bit-for-bit check against ann; None is the blog's program).
    """
    np.random.seed(80)

    ### training the neural network ###
    # loading the mnist traning data CSV file into list
    training_data_file = open(train_csv)
    training_data_list = training_data_file.readlines()
    training_data_file.close()
    if limit is not None:
        training_data_list = training_data_list[:limit]

    # define the number of input, hidden, output nodes and learning rate
    input_nodes = 784
    hidden_nodes = 200
    output_nodes = 10
    learning_rate = 0.1

    # create the instance of neural network
    n = NeuralNetwork(input_nodes, hidden_nodes, output_nodes, learning_rate)

    # epochs is the number of times the training data set is used for training
    seconds = []
    for e in range(epochs):
        started = time.perf_counter()
        # go through all records in the traning data set
        for record in training_data_list:
            # split the record by the ',' commas
            all_values = record.split(',')
            # scale and shift the inputs
            inputs = (np.array(all_values[1:], dtype = float) / 255.0 * 0.99) + 0.01
            # create the target output values(because we use the sigmoid function,
            # its range is 0<s<1, all 0.01, expect the desired label which is 0.99)
            targets = np.zeros(output_nodes) + 0.01
            # all_values[0] is the target label for this record
            targets[int(all_values[0])] = 0.99
            # training the model
            n.train(inputs, targets)
            ## create rotated variations in order to increase the sample capacity
            # rotated anticlockwise by x degrees
            inputs_plusx_img = scipy.ndimage.rotate(inputs.reshape(28,28), 10, cval=0.01, order=1, reshape=False)
            # training the model
            n.train(inputs_plusx_img.reshape(784), targets)
            # rotated clockwise by x degrees
            inputs_minusx_img = scipy.ndimage.rotate(inputs.reshape(28,28), -10, cval=0.01, order=1, reshape=False)
            # training the model
            n.train(inputs_minusx_img.reshape(784), targets)
        seconds.append(time.perf_counter() - started)
        if on_epoch is not None:
            on_epoch(e, seconds[-1])

    ### test the neural network ###
    # load the test data
    test_data_file = open(test_csv)
    test_data_list = test_data_file.readlines()
    test_data_file.close()
    # scorecard for how well the network performs, initially empty
    scorecard = []
    # go through all the records in the test data set
    for record in test_data_list:
        # split the record by the ',' commas
        all_values = record.split(',')
        # convert answer is first label
        correct_label = int(all_values[0])
        inputs = (np.array(all_values[1:], dtype = float) / 255.0 * 0.99) + 0.01
        ## query the neural network
        outputs = n.query(inputs)
        # the index of the highest value corrsponds to the label
        predict_label = np.argmax(outputs)
        if (predict_label == correct_label):
            scorecard.append(1)
        else:
            scorecard.append(0)
    # calculate the performance score, the fraction of correct answers
    scorecard_array = np.array(scorecard)
    performance = scorecard_array.sum() / scorecard_array.size * 100
    return n, seconds, performance


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train", required=True, help="mnist_train.csv (the full 60,000 records)")
    parser.add_argument("--test", required=True, help="mnist_test.csv (the full 10,000 records)")
    parser.add_argument("--epochs", type=int, default=5, help="the blog's value is 5")
    args = parser.parse_args(argv)
    _, seconds, performance = run(args.train, args.test, args.epochs,
                                  on_epoch=lambda e, s: print(f"epoch {e + 1}: {s:.1f} s", flush=True))
    print(f'performance: {round(performance, 2)}%')


if __name__ == "__main__":
    main()
