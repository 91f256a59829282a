"""The camera-condition simulator: an MNIST digit as the robot's camera sees it in real use,
and empty views. An independent judge of the preprocessing, written from how paper, pens,
light and cameras behave, not from how read_frame works. numpy/OpenCV only.

A frame is built as a camera forms it (scene.py): the sheet's reflectance (sheet.py: paper
colour, printed lines; pen.py: the ink, along the digit's centre line of centre_line.py),
possibly tilted (geometry.py), and objects before it (covers.py: a finger, the table beyond
the sheet's edge); times the light falling on it (light.py: gradients, lamps, shadows), plus
glare; then the lens blurs it, the sensor adds noise, the phone or webcam processes and
compresses it as JPEG (camera.py). conditions.py and blanks.py name the scenes: each
condition (or digit-free kind) has several variants generated in different ways (not one
formula with other numbers), so that no single simulator formula is what the preprocessing
learns to pass.
"""
