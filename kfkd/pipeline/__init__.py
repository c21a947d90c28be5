"""Keypoints on real photos and video: detect, crop, predict, map back.

A photo goes through four steps:

1. **Detect** faces with OpenCV's Haar cascade
   (``haarcascade_frontalface_default.xml``, shipped in the opencv wheel
   under ``cv2.data.haarcascades``; Viola & Jones 2001) on a grey copy
   downscaled to at most ``max_side`` pixels (:class:`FaceDetector`).
2. **Crop** each box to the model's input: a square of side
   :data:`CROP_SCALE` x the box width, centred on the box centre, cut from
   the full-resolution grey photo (pixels outside the photo replicate its
   border) and resized to 96x96, grey levels / 255.
3. **Predict** the 15 keypoints with the model (anything with
   ``predict(images (N, 1, 96, 96) float32 in [0, 1]) -> (N, 30) pixels``)
   and map them back to photo pixels (:func:`frame_to_photo`).
4. **Filter** false positives; every candidate keeps its box, its
   keypoints and either a confidence or the reason it was rejected
   (:class:`Face`).

==============================  ==========================================
:mod:`.images`                  photo/video reading (header checks) and
                                atomic writing
:mod:`.detection`               Haar detection, the crop and its framing
:mod:`.faces`                   a candidate face, the tracking test and the
                                false-positive filters
:mod:`.effects`                 keypoints and boxes drawn, blur, sunglasses
:mod:`.run`                     :class:`KeypointPipeline`, ``kfkd detect``
                                and ``kfkd video``
:mod:`.imm`, :mod:`.imm_eval`   the IMM face database and the pipeline's
                                keypoint errors on it
:mod:`.benchmark`               frames per second of the video pipeline
:mod:`.command`                 the subcommands' parsers and functions
==============================  ==========================================

The model is passed in (anything with ``predict``): nothing here imports
Theano.

Examples
--------
>>> from kfkd.model import load_model  # doctest: +SKIP
>>> pipeline = KeypointPipeline(load_model())  # doctest: +SKIP
>>> image = read_image("photo.jpg")  # doctest: +SKIP
>>> faces = pipeline.faces(image)  # accepted faces only  # doctest: +SKIP
>>> faces[0].keypoints.shape  # (15, 2) photo pixels  # doctest: +SKIP
(15, 2)
>>> write_image("out.jpg", draw_faces(image, faces))  # doctest: +SKIP
"""
from .detection import (CROP_SCALE, CROP_SHIFT, FaceDetector, crop_faces,
                        crop_square, frame_to_photo)
from .effects import (BLUR_CELLS, SUNGLASSES_LENSES, annotate, blur_faces,
                      draw_faces, eye_centres, overlay_sunglasses,
                      sunglasses_image)
from .faces import (BLUR_SCALE, IOD_RANGE, MIN_CONFIDENCE, OVERLAP,
                    SHIFT_DIRECTIONS, SHIFT_TEST, Face)
from .images import (MAX_PHOTO_PIXELS, VIDEO_CODECS, ImageError, image_size,
                     letterbox, read_image, read_video, to_grey, video_info,
                     write_image, write_video)
from .run import KeypointPipeline, detect_photos, output_stems, process_video

__all__ = ["CROP_SCALE", "CROP_SHIFT", "OVERLAP", "SHIFT_TEST",
           "SHIFT_DIRECTIONS", "MIN_CONFIDENCE", "IOD_RANGE", "BLUR_SCALE",
           "BLUR_CELLS", "VIDEO_CODECS", "ImageError", "read_image",
           "MAX_PHOTO_PIXELS", "image_size", "output_stems",
           "write_image", "to_grey",
           "FaceDetector", "Face", "KeypointPipeline", "crop_square",
           "crop_faces", "frame_to_photo", "draw_faces", "blur_faces",
           "sunglasses_image", "SUNGLASSES_LENSES", "overlay_sunglasses",
           "eye_centres", "annotate", "detect_photos", "letterbox",
           "write_video", "read_video", "video_info", "process_video"]
