"""The `viewer` operator tool: view.py what it shows (pure: images, names, status states),
parameter_client.py the preprocess node's threshold over its parameter services,
window.py the node, the Tk window and main(). Empty, so view.py imports without rclpy."""
